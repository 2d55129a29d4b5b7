// Copy buttons: <button data-copy-target="input-id">. Falls back to selecting the text where the
// Clipboard API is unavailable (plain http hosts other than localhost), so the user can copy by hand.
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-copy-target]");
  if (!button) return;
  var input = document.getElementById(button.getAttribute("data-copy-target"));
  if (!input) return;
  input.select();
  var done = function () {
    if (!button.dataset.label) button.dataset.label = button.textContent;
    button.textContent = "Copied";
    setTimeout(function () { button.textContent = button.dataset.label; }, 2000);
  };
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(input.value).then(done, function () {});
  } else if (document.execCommand && document.execCommand("copy")) {
    done();
  }
});
