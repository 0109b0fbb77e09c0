// After a form comes back with errors, the keyboard and screen reader start at the error summary (role=alert,
// views/partials/form-error.eta, or the flash of a refused action) or, without one, at the first field marked
// invalid: not at the top of the page.
(function () {
  var summary = document.querySelector('main .form-error[role=alert], main > .flash-error[role=alert]')
  var field = document.querySelector('main [aria-invalid=true]')
  var target = summary || field
  if (!target || document.activeElement !== document.body) return
  if (target === summary && !summary.hasAttribute('tabindex')) summary.setAttribute('tabindex', '-1')
  target.focus({ preventScroll: false })
})()
