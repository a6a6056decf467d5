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
