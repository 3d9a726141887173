// MathJax 3 reads the \( \) and \[ \] spans that pymdownx.arithmatex (generic mode) writes,
// and only inside them, so a dollar sign in prose or code is never taken for math.
window.MathJax = {
  tex: { inlineMath: [["\\(", "\\)"]], displayMath: [["\\[", "\\]"]],
         processEscapes: true, processEnvironments: true },
  options: { ignoreHtmlClass: ".*|", processHtmlClass: "arithmatex" },
};
// Material's instant navigation swaps pages without reloading: typeset each new page.
if (typeof document$ !== "undefined") {
  document$.subscribe(() => { if (window.MathJax.typesetPromise) MathJax.typesetPromise(); });
}
