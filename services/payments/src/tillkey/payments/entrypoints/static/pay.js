// The payment page's behaviour. Plain browser JavaScript, no dependencies.
// The card number goes from this page to the gateway only (POST {gateway}/v1/tokens); payments
// receives the single-use token the gateway answers with, never the card.
(function () {
  "use strict";
  var root = document.getElementById("pay");
  if (!root) return;
  var orderId = root.dataset.orderId;
  var token = root.dataset.token;
  var gatewayUrl = root.dataset.sandboxUrl;
  var exp = parseInt(root.dataset.exponent, 10) || 0;
  var locale = root.dataset.locale || "en";
  var paymentsUrl = "/v1/orders/" + encodeURIComponent(orderId) + "/payments?token=" + encodeURIComponent(token);
  var SECTIONS = ["choose", "pending", "failed", "instructions", "paid", "closed"];
  var POLL_EVERY_MS = 1000;
  var POLL_FOR_MS = 120000;
  var texts = {};
  try { texts = JSON.parse(document.getElementById("pay-texts").textContent); } catch (e) { texts = {}; }

  function t(text) { return texts[text] || text; }
  function $(id) { return document.getElementById(id); }

  // Moves focus to the new state's heading, so keyboard and screen-reader users follow along.
  function show(state, focus) {
    root.dataset.state = state;
    SECTIONS.forEach(function (name) { $(name).hidden = name !== state; });
    if (focus === false) return;
    var heading = $(state).querySelector("h2");
    if (heading && !heading.classList.contains("visually-hidden")) {
      heading.setAttribute("tabindex", "-1");
      heading.focus();
    }
  }

  // The page's own amount as the server wrote it (CLDR, Babel); anything else the same way by the
  // browser's CLDR data, with the currency's ISO 4217 decimals.
  function money(amount, currency) {
    if (String(amount) === root.dataset.amount && currency === root.dataset.currency) return root.dataset.amountText;
    try {
      return new Intl.NumberFormat(locale, { style: "currency", currency: currency,
        minimumFractionDigits: exp, maximumFractionDigits: exp }).format(amount / Math.pow(10, exp));
    } catch (e) {
      return (amount / Math.pow(10, exp)).toFixed(exp) + "\u00a0" + currency;
    }
  }

  function longDate(isoDate) {
    try {
      return new Intl.DateTimeFormat(locale, { dateStyle: "long", timeZone: "UTC" })
        .format(new Date(isoDate.slice(0, 10) + "T00:00:00Z"));
    } catch (e) {
      return isoDate;
    }
  }

  function groupIban(iban) { return iban.replace(/\s/g, "").replace(/(.{4})(?=.)/g, "$1 "); }

  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + Math.random().toString(36).slice(2);
  }

  function sleep(ms) { return new Promise(function (resolve) { setTimeout(resolve, ms); }); }

  function message(id, text) {
    var el = $(id);
    el.textContent = text || "";
    el.hidden = !text;
  }

  // Our sentence for a known failure code, in the page's language; else what payments said.
  function failureText(failure) {
    return (failure && (texts[failure.code] || failure.message)) || texts["default"] || "";
  }

  // One attempt: one Idempotency-Key, kept across "order not ready yet" retries of that attempt.
  async function startPayment(body) {
    var key = newKey();
    for (;;) {
      var resp = await fetch(paymentsUrl, {
        method: "POST", credentials: "omit",
        headers: { "Content-Type": "application/json", "Idempotency-Key": key },
        body: JSON.stringify(body)
      });
      var data = await resp.json().catch(function () { return null; });
      if (resp.status === 409 && data && data.code === "order_not_ready") { await sleep(1000); continue; }
      if (resp.status === 409) { window.location.reload(); return null; }  // paid or closed meanwhile
      if (!resp.ok) throw new Error(t("The payment could not be started. Please try again."));
      return data;
    }
  }

  function render(payment) {
    if (!payment) { show("choose"); return; }
    switch (payment.status) {
      case "succeeded": show("paid"); break;
      case "pending": show("pending"); poll(); break;
      case "failed":
        $("failure-message").textContent = failureText(payment.failure);
        show("failed"); break;
      case "awaiting_funds": fillInstructions(payment.instructions); show("instructions"); break;
      default: show("choose");
    }
  }

  function fillInstructions(i) {
    $("bt-amount").textContent = money(i.amount, i.currency);
    $("bt-reference").textContent = i.reference;
    $("bt-account-holder").textContent = i.account_holder;
    $("bt-bank-name").textContent = i.bank_name;
    $("bt-iban").textContent = groupIban(i.iban);
    $("copy-iban").dataset.copyText = i.iban;   // copied without spaces: every bank form takes that
    $("bt-bic").textContent = i.bic;
    $("bt-due-date").textContent = longDate(i.due_date);
  }

  var polling = false;
  async function poll() {
    if (polling) return;
    polling = true;
    var until = Date.now() + POLL_FOR_MS;
    try {
      while (Date.now() < until) {
        await sleep(POLL_EVERY_MS);
        var resp = await fetch(paymentsUrl + "&limit=1", { credentials: "omit" }).catch(function () { return null; });
        if (!resp || !resp.ok) continue;
        var latest = (await resp.json()).data[0];
        if (latest && latest.status !== "pending") { polling = false; render(latest); return; }
      }
      $("pending-text").textContent = t("This is taking longer than usual. We will email you the result; " +
                                        "you can also reload this page in a minute.");
    } finally {
      polling = false;
    }
  }

  // -- the card form -------------------------------------------------------------------------
  var FIELD_ERRORS = { "card-number": "card-number-error", "card-exp-month": "card-exp-error",
                       "card-exp-year": "card-exp-error", "card-cvc": "card-cvc-error" };

  function digits(id) { return $(id).value.replace(/[\s-]/g, ""); }

  function luhn(number) {
    var sum = 0;
    for (var i = 0; i < number.length; i++) {
      var d = parseInt(number.charAt(number.length - 1 - i), 10);
      if (i % 2 === 1) { d *= 2; if (d > 9) d -= 9; }
      sum += d;
    }
    return sum % 10 === 0;
  }

  function fullYear(text) {
    var y = parseInt(text, 10);
    return text.length === 2 ? 2000 + y : y;
  }

  // Field → message for what is wrong before anything leaves the page.
  function checkCard() {
    var errors = {};
    var number = digits("card-number");
    if (!number) errors["card-number"] = t("Enter the card number.");
    else if (!/^\d{12,19}$/.test(number) || !luhn(number)) errors["card-number"] = t("This card number is not valid.");
    var month = digits("card-exp-month"), year = digits("card-exp-year");
    if (!/^\d{1,2}$/.test(month) || +month < 1 || +month > 12) errors["card-exp-month"] = t("Enter the expiry month (01–12).");
    else if (!/^(\d{2}|\d{4})$/.test(year)) errors["card-exp-year"] = t("Enter the expiry year, like 2029.");
    else {
      var now = new Date();
      var y = fullYear(year);
      if (y < now.getFullYear() || (y === now.getFullYear() && +month < now.getMonth() + 1)) {
        errors["card-exp-year"] = t("This card has expired.");
      }
    }
    if (!/^\d{3,4}$/.test(digits("card-cvc"))) errors["card-cvc"] = t("Enter the 3 or 4 digit security code.");
    return errors;
  }

  function showFieldErrors(errors) {
    Object.keys(FIELD_ERRORS).forEach(function (id) {
      $(id).removeAttribute("aria-invalid");
      message(FIELD_ERRORS[id], "");
    });
    var first = null;
    Object.keys(errors).forEach(function (id) {
      $(id).setAttribute("aria-invalid", "true");
      var box = $(FIELD_ERRORS[id]);
      box.textContent = box.textContent ? box.textContent + " " + errors[id] : errors[id];
      box.hidden = false;
      if (!first) first = $(id);
    });
    if (first) first.focus();
    return !first;
  }

  async function tokenize() {
    var resp = await fetch(gatewayUrl + "/v1/tokens", {
      method: "POST", credentials: "omit", referrerPolicy: "no-referrer",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        number: digits("card-number"),
        exp_month: parseInt(digits("card-exp-month"), 10),
        exp_year: fullYear(digits("card-exp-year")),
        cvc: digits("card-cvc")
      })
    });
    var data = await resp.json().catch(function () { return null; });
    if (resp.ok) return data.payment_token;
    // The gateway's own check (field names as its API has them) → our fields, our words.
    var map = { number: ["card-number", "This card number is not valid."],
                exp_month: ["card-exp-month", "Enter the expiry month (01–12)."],
                exp_year: ["card-exp-year", "This card has expired."],
                cvc: ["card-cvc", "Enter the 3 or 4 digit security code."] };
    var errors = {};
    Object.keys((data && data.errors) || {}).forEach(function (k) { if (map[k]) errors[map[k][0]] = t(map[k][1]); });
    if (Object.keys(errors).length) { showFieldErrors(errors); return null; }
    throw new Error(t("The card could not be checked. Please try again."));
  }

  function clearCard() {
    ["card-number", "card-exp-month", "card-exp-year", "card-cvc"].forEach(function (id) { $(id).value = ""; });
  }

  function selectMethod(method) {
    document.querySelectorAll("input[name=method]").forEach(function (r) { r.checked = r.value === method; });
    document.querySelectorAll("[data-method]").forEach(function (el) { el.hidden = el.dataset.method !== method; });
  }

  // The other methods, shown on request: the checkout already asked which one.
  function showPicker(open) {
    $("method-picker").hidden = !open;
    $("change-method").hidden = open;
    $("change-method").setAttribute("aria-expanded", open ? "true" : "false");
  }

  $("change-method").addEventListener("click", function () {
    showPicker(true);
    var checked = document.querySelector("input[name=method]:checked");
    if (checked) checked.focus();
  });

  // Groups of four digits as the customer types, as printed on the card.
  $("card-number").addEventListener("input", function (ev) {
    var el = ev.target;
    var raw = el.value.replace(/\D/g, "").slice(0, 19);
    var pretty = raw.replace(/(\d{4})(?=\d)/g, "$1 ");
    if (pretty !== el.value) el.value = pretty;
  });

  document.querySelectorAll("input[name=method]").forEach(function (radio) {
    radio.addEventListener("change", function () { message("start-error", ""); selectMethod(radio.value); });
  });

  async function busy(button, work) {
    var label = button.textContent;
    button.disabled = true;
    button.textContent = t("Processing…");
    message("card-error", "");
    message("start-error", "");
    try {
      await work();
    } catch (err) {
      message("start-error", err.message);
    } finally {
      button.disabled = false;
      button.textContent = label;
    }
  }

  $("card-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    if (!showFieldErrors(checkCard())) return;
    busy($("pay-card"), async function () {
      var paymentToken;
      try {
        paymentToken = await tokenize();
      } catch (err) {
        message("card-error", err.message);
        return;
      }
      if (!paymentToken) return;
      clearCard();  // the token stands for the card from here on; the page keeps no card data
      render(await startPayment({ method: "card", payment_token: paymentToken }));
    });
  });

  $("pay-bank").addEventListener("click", function () {
    busy($("pay-bank"), async function () { render(await startPayment({ method: "bank_transfer" })); });
  });

  function backToChoice(method, picker) {
    show("choose", false);
    showPicker(picker);
    selectMethod(method);
    var target = method === "card" ? $("card-number") : document.querySelector("input[name=method]:checked");
    if (target) target.focus();
  }

  $("retry").addEventListener("click", function () { backToChoice("card", false); });
  $("other-method").addEventListener("click", function () { backToChoice("bank_transfer", true); });
  $("switch-method").addEventListener("click", function () { backToChoice("card", true); });

  if (root.dataset.state === "pending") poll();
  // Bank transfer chosen at checkout and nothing tried yet: fetch the details at once (the
  // server renders later visits from the attempt this creates).
  if (root.dataset.autostart === "bank_transfer") $("pay-bank").click();
})();
