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
})();
