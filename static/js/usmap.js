// The states map: show the count of the state under the pointer or keyboard focus, and mark its row.
(function () {
  "use strict";
  document.querySelectorAll(".us-map-svg").forEach(function (svg) {
    var readout = document.getElementById(svg.dataset.readout);
    var table = svg.closest(".us-map").querySelector(".us-map-table");
    function show(event) {
      var state = event.target.closest(".us-state");
      if (!state) { return; }
      readout.textContent = state.dataset.label;
      table.querySelectorAll("tr.is-current").forEach(function (row) { row.classList.remove("is-current"); });
      var row = table.querySelector('tr[data-state="' + state.dataset.state + '"]');
      if (row) { row.classList.add("is-current"); }
    }
    svg.addEventListener("mouseover", show);
    svg.addEventListener("focusin", show);
  });
})();
