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
  var paymentsUrl = "/v1/orders/" + encodeURIComponent(orderId) + "/payments?token=" + encodeURIComponent(token);
  var SECTIONS = ["choose", "pending", "failed", "instructions", "paid", "closed"];
  var POLL_EVERY_MS = 1000;
  var POLL_FOR_MS = 120000;

  function $(id) { return document.getElementById(id); }

  function show(state) {
    root.dataset.state = state;
    SECTIONS.forEach(function (name) { $(name).hidden = name !== state; });
  }

  function money(amount, currency) {
    return (amount / Math.pow(10, exp)).toFixed(exp) + " " + currency;
  }

  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + Math.random().toString(36).slice(2);
  }

  function sleep(ms) { return new Promise(function (resolve) { setTimeout(resolve, ms); }); }

  function problemText(body, fallback) {
    if (body && body.errors) {
      return Object.keys(body.errors).map(function (k) { return body.errors[k].join(" "); }).join(" ");
    }
    return (body && body.detail) || fallback;
  }

  function message(id, text) {
    var el = $(id);
    el.textContent = text || "";
    el.hidden = !text;
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
      if (!resp.ok) throw new Error(problemText(data, "The payment could not be started (" + resp.status + ")."));
      return data;
    }
  }

  function render(payment) {
    if (!payment) { show("choose"); return; }
    switch (payment.status) {
      case "succeeded": show("paid"); break;
      case "pending": show("pending"); poll(); break;
      case "failed":
        $("failure-message").textContent = payment.failure ? payment.failure.message : "";
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
    $("bt-iban").textContent = i.iban;
    $("bt-bic").textContent = i.bic;
    $("bt-due-date").textContent = i.due_date;
  }

  var polling = false;
  async function poll() {
    if (polling) return;
    polling = true;
    var until = Date.now() + POLL_FOR_MS;
    try {
      while (Date.now() < until) {
        await sleep(POLL_EVERY_MS);
        var resp = await fetch(paymentsUrl + "&limit=1", { credentials: "omit" });
        if (!resp.ok) continue;
        var latest = (await resp.json()).data[0];
        if (latest && latest.status !== "pending") { polling = false; render(latest); return; }
      }
      $("pending").querySelector("p").textContent = "This is taking longer than usual. Refresh the page in a minute.";
    } finally {
      polling = false;
    }
  }

  async function tokenize() {
    var resp = await fetch(gatewayUrl + "/v1/tokens", {
      method: "POST", credentials: "omit", referrerPolicy: "no-referrer",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        number: $("card-number").value.replace(/[\s-]/g, ""),
        exp_month: parseInt($("card-exp-month").value, 10),
        exp_year: parseInt($("card-exp-year").value, 10),
        cvc: $("card-cvc").value.trim()
      })
    });
    var data = await resp.json().catch(function () { return null; });
    if (!resp.ok) throw new Error(problemText(data, "The card could not be checked (" + resp.status + ")."));
    return data.payment_token;
  }

  function clearCard() {
    ["card-number", "card-exp-month", "card-exp-year", "card-cvc"].forEach(function (id) { $(id).value = ""; });
  }

  function selectMethod(method) {
    document.querySelectorAll("[data-method]").forEach(function (el) { el.hidden = el.dataset.method !== method; });
  }

  document.querySelectorAll("input[name=method]").forEach(function (radio) {
    radio.addEventListener("change", function () { message("start-error", ""); selectMethod(radio.value); });
  });

  $("card-form").addEventListener("submit", async function (ev) {
    ev.preventDefault();
    var button = $("pay-card");
    button.disabled = true;
    message("card-error", "");
    message("start-error", "");
    try {
      var paymentToken;
      try {
        paymentToken = await tokenize();
      } catch (err) {
        message("card-error", err.message);
        return;
      }
      clearCard();  // the token stands for the card from here on; the page keeps no card data
      render(await startPayment({ method: "card", payment_token: paymentToken }));
    } catch (err) {
      message("start-error", err.message);
    } finally {
      button.disabled = false;
    }
  });

  $("pay-bank").addEventListener("click", async function () {
    var button = $("pay-bank");
    button.disabled = true;
    message("start-error", "");
    try {
      render(await startPayment({ method: "bank_transfer" }));
    } catch (err) {
      message("start-error", err.message);
    } finally {
      button.disabled = false;
    }
  });

  $("retry").addEventListener("click", function () { show("choose"); });
  $("switch-method").addEventListener("click", function () {
    show("choose");
    var card = document.querySelector("input[name=method][value=card]");
    if (card) { card.checked = true; selectMethod("card"); }
  });

  if (root.dataset.state === "pending") poll();
})();
