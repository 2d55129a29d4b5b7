// Small page behaviours as data attributes, because the Content-Security-Policy allows no inline script, no
// on* handler, no hx-on (eval) and no style="" attribute (config/csp.py):
//   <button data-print>                      prints the page;
//   <button data-dismiss="li">               removes its closest <li> (a dismissed message);
//   <span data-width-percent="42">           sets its width through the CSSOM, which the policy allows.
document.addEventListener("click", function (event) {
  var printer = event.target.closest("[data-print]");
  if (printer) {
    window.print();
    return;
  }
  var dismiss = event.target.closest("[data-dismiss]");
  if (dismiss) {
    var gone = dismiss.closest(dismiss.getAttribute("data-dismiss"));
    if (gone) gone.remove();
  }
});

function applyWidths(root) {
  root.querySelectorAll("[data-width-percent]").forEach(function (element) {
    element.style.width = element.getAttribute("data-width-percent") + "%";
  });
}

document.addEventListener("DOMContentLoaded", function () { applyWidths(document); });
document.addEventListener("htmx:load", function (event) { applyWidths(event.detail.elt); });
