// The quote in the middle of the screen, focused for keyboard and screen-reader users.
(function () {
  const hl = document.getElementById("hl");
  if (hl) { hl.scrollIntoView({block: "center"}); hl.focus({preventScroll: true}); }
})();
