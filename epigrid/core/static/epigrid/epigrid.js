// Widths the server computes (progress bars: data-width="42") are set here, on first load and on
// every htmx swap: the Content-Security-Policy refuses inline style attributes.
if (window.htmx) {
  htmx.onLoad(function (root) {
    const elements = Array.from(root.querySelectorAll("[data-width]"));
    if (root.matches && root.matches("[data-width]")) elements.push(root);
    elements.forEach(function (el) {
      el.style.width = Math.max(0, Math.min(100, Number(el.dataset.width) || 0)) + "%";
    });
  });
}

// Links marked data-history-back (Cancel, an error page's Back) go back in the browser's history
// when there is a page to go back to; otherwise they follow their href. No inline handlers: the
// Content-Security-Policy refuses them.
document.addEventListener("click", function (event) {
  const link = event.target.closest && event.target.closest("[data-history-back]");
  if (link && window.history.length > 1) {
    event.preventDefault();
    window.history.back();
  }
});
