// Shows, as the signer picks a state, which senators will receive the letter. The form works
// without this script; it only saves a look at the list below the form.
(function () {
  "use strict";
  var data = document.getElementById("senators-by-state");
  var state = document.getElementById("id_state");
  if (!data || !state) return;
  var senators = JSON.parse(data.textContent);
  var out = document.createElement("p");
  out.className = "form-text";
  out.id = "senators-for-state";
  out.setAttribute("aria-live", "polite");
  state.parentNode.appendChild(out);
  function show() {
    var names = senators[state.value];
    out.textContent = names ? "\u2192 " + names.join(", ") : "";
  }
  state.addEventListener("change", show);
  show();
  var form = document.querySelector("form.sign-form");
  if (form) {
    // One signature per press: a double click, or Enter pressed twice, must not send the form twice.
    // (The server also keeps one signature per address, but a second request costs a second e-mail.)
    var sent = false;
    // The petition page is cached and shared, so its form holds no security token or start stamp:
    // they are fetched when the signer starts filling it in, or at the latest when they send it.
    var tokenInput = form.querySelector("[name=csrfmiddlewaretoken]");
    var stampInput = form.querySelector("[name=form_started]");
    var fetching = null;
    function fetchToken() {
      if (!tokenInput || tokenInput.value) return Promise.resolve();
      if (!fetching) {
        fetching = fetch(form.getAttribute("data-token-url"), { credentials: "same-origin", headers: { Accept: "application/json" } })
          .then(function (answer) { return answer.json(); })
          .then(function (data) {
            tokenInput.value = data.csrfmiddlewaretoken;
            if (stampInput && !stampInput.value) stampInput.value = data.form_started;
          })
          .catch(function () { fetching = null; });
      }
      return fetching;
    }
    form.addEventListener("focusin", fetchToken);
    form.addEventListener("submit", function (event) {
      if (sent) { event.preventDefault(); return; }
      if (tokenInput && !tokenInput.value) {
        // Without a token the form would come back to be sent again: fetch one, then send.
        event.preventDefault();
        fetchToken().then(function () { sent = true; form.submit(); });
        return;
      }
      sent = true;
      var button = form.querySelector("[type=submit]");
      if (button) { setTimeout(function () { button.disabled = true; }, 0); }
    });
    // Coming back with the Back button shows the page from memory: let the form be sent again, with
    // a new token and stamp, as each stamp signs once.
    window.addEventListener("pageshow", function (event) {
      if (!event.persisted) return;
      sent = false;
      if (tokenInput && form.getAttribute("data-token-url")) {
        tokenInput.value = "";
        if (stampInput) stampInput.value = "";
        fetching = null;
      }
      var button = form.querySelector("[type=submit]");
      if (button) button.disabled = false;
    });
    var firstError = form.querySelector(".is-invalid");
    if (firstError) firstError.focus();
  }
})();
