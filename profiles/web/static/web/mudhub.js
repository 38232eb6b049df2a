// mudhub's only script of its own: copy buttons. Loaded as a file (the CSP allows no inline script).
document.addEventListener("click", function (event) {
  var button = event.target.closest("button[data-copy]");
  if (!button) return;
  var source = document.getElementById(button.getAttribute("data-copy"));
  var status = document.getElementById(button.getAttribute("aria-describedby"));
  var text = source ? source.textContent.trim() : "";
  function done(message) { if (status) status.textContent = message; }
  function select() {
    // Without the Clipboard API (plain http, or permission refused): select the text instead.
    var range = document.createRange();
    range.selectNodeContents(source);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    done(document.execCommand("copy") ? "Copied." : "Selected: press Ctrl+C to copy.");
  }
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).then(function () { done("Copied."); }, select);
  } else {
    select();
  }
});
