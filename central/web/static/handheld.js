// Keep the scan field focused: a keyboard-wedge scanner types into whatever has focus.
(function () {
  function scanField() { return document.querySelector("[data-scan]"); }
  function focusScan() {
    var field = scanField();
    if (field && document.activeElement !== field) { field.focus(); field.select(); }
  }
  window.addEventListener("pageshow", focusScan);
  document.addEventListener("click", function (event) {
    var tag = event.target.tagName;
    if (tag !== "INPUT" && tag !== "BUTTON" && tag !== "A" && tag !== "SELECT") { focusScan(); }
  });
  // Pack station: reload while waiting for the scale, unless the user is typing a weight.
  var wait = document.querySelector("[data-refresh]");
  if (wait) {
    var typed = false;
    document.addEventListener("input", function () { typed = true; });
    setInterval(function () { if (!typed) { location.reload(); } },
      1000 * Number(wait.getAttribute("data-refresh")));
  }
})();
