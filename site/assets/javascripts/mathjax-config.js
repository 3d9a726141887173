// MathJax 3 reads the \( \) and \[ \] spans that pymdownx.arithmatex (generic mode) writes,
// and only inside them, so a dollar sign in prose or code is never taken for math.
window.MathJax = {
  tex: { inlineMath: [["\\(", "\\)"]], displayMath: [["\\[", "\\]"]],
         processEscapes: true, processEnvironments: true },
  options: { ignoreHtmlClass: ".*|", processHtmlClass: "arithmatex" },
};
// Material's instant navigation swaps pages without reloading: typeset each new page. The first
// page is MathJax's own startup typesetting; typesetting it again at the same time numbered
// every equation twice ("Label multiply defined") and broke the page.
if (typeof document$ !== "undefined") {
  let first = true;
  document$.subscribe(() => {
    if (first) { first = false; return; }
    if (!window.MathJax.typesetPromise) return;
    MathJax.startup.output.clearCache();
    MathJax.typesetClear();
    MathJax.texReset();
    MathJax.typesetPromise();
  });
}
