// Shared behaviour of the customer's pages: copy buttons. The value stays selectable without
// JavaScript; the buttons are hidden until this script shows them.
(function () {
  "use strict";
  function copy(text, field) {
    if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
    if (field) { field.select(); document.execCommand("copy"); }
    return Promise.resolve();
  }
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      var field = document.getElementById(button.dataset.copy);
      // data-copy-text: what to copy when the shown text is spaced for reading (an IBAN in fours).
      var text = button.dataset.copyText ||
        (field ? (field.value !== undefined ? field.value : field.textContent) : "");
      var label = button.dataset.label || button.textContent;
      button.dataset.label = label;
      copy(text.trim(), field && field.select ? field : null).then(function () {
        button.textContent = button.dataset.copied || "Copied";
        var status = document.getElementById("copy-status");
        if (status) status.textContent = button.dataset.copied || "Copied";
        setTimeout(function () { button.textContent = label; }, 2000);
      });
    });
  });

  // A field the server marked wrong stops looking wrong once the customer changes it: a red
  // message next to a value that is now fine only confuses. The server checks again on submit.
  document.querySelectorAll("[aria-invalid=true]").forEach(function (field) {
    var event = field.type === "checkbox" || field.tagName === "SELECT" ? "change" : "input";
    field.addEventListener(event, function () {
      if (field.type === "checkbox" && !field.checked) return;
      field.removeAttribute("aria-invalid");
      (field.getAttribute("aria-describedby") || "").split(/\s+/).forEach(function (id) {
        var message = id.indexOf("e-") === 0 && document.getElementById(id);
        if (message) message.hidden = true;
      });
      var item = document.querySelector('#error-summary a[href="#' + field.id + '"]');
      if (item) item.parentNode.remove();
      var summary = document.getElementById("error-summary");
      if (summary && !summary.querySelector("li")) summary.hidden = true;
    }, { once: true });
  });
})();
