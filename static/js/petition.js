// The petition page's letter: closed on a phone, to be opened rather than scrolled through, and
// open on a wide screen, where it is read beside the sign box. Without script it opens on demand.
(function () {
  "use strict";
  var letter = document.getElementById("letter-details");
  if (letter && window.matchMedia("(min-width: 992px)").matches) letter.open = true;
})();
