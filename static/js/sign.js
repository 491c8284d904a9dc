// Names, as the signer chooses, who will receive the letter; fetches the cached page's form its
// token; sends the form once per press. The form works without this script.
(function () {
  "use strict";
  var state = document.getElementById("id_state");
  if (!state) return;

  // Names who will receive the letter before the button, as the signer chooses their state, says
  // they live abroad, or ticks recipients. The server names them the same way on the next page.
  var preview = document.getElementById("recipients-preview");
  var labelsData = document.getElementById("recipient-labels");
  var abroad = document.getElementById("id_lives_abroad");
  if (preview && labelsData) {
    var labels = JSON.parse(labelsData.textContent);
    var namesOut = preview.querySelector(".recipients-names");
    var ticked = function (value) {
      var box = document.querySelector("input[name=recipients][value=" + value + "]");
      return box ? box.checked : false;
    };
    var join = function (names) {
      if (names.length < 2) return names.join("");
      return preview.dataset.pair
        .replace("%(first)s", names.slice(0, -1).join(", "))
        .replace("%(last)s", names[names.length - 1]);
    };
    var nameRecipients = function () {
      var isAbroad = abroad && abroad.checked;
      var names = [];
      if (ticked("senators") && !isAbroad) {
        if (!state.value) names.push(preview.dataset.yourSenators);
        else names = names.concat(labels.senators[state.value] || []);
      }
      if ((ticked("president") || isAbroad) && labels.president) names.push(labels.president);
      namesOut.textContent = join(names);
    };
    if (state.form) state.form.addEventListener("change", nameRecipients);
    nameRecipients();
  }
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
