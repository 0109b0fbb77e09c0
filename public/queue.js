// The queue's bulk panel, made quicker with a script (everything works without it): a box in the
// list's head ticks every row of the page, and the panel shows only the inputs the chosen action
// takes. Loaded from this site only (the content security policy allows no inline script).
(function () {
function init() {
  var form = document.getElementById('bulk')
  // Once per list: a live queue (live.js) puts a new list in when tickets change.
  if (!form || form.getAttribute('data-ready')) return
  form.setAttribute('data-ready', '1')
  var rows = Array.prototype.slice.call(document.querySelectorAll('input[form="bulk"][name="tickets"]'))
  var head = document.querySelector('th.pick')
  if (head && rows.length) {
    var all = document.createElement('input')
    all.type = 'checkbox'
    all.setAttribute('aria-label', head.getAttribute('data-label') || head.textContent.trim())
    head.textContent = ''
    head.appendChild(all)
    var sync = function () {
      var ticked = rows.filter(function (r) { return r.checked }).length
      all.checked = ticked === rows.length
      all.indeterminate = ticked > 0 && ticked < rows.length
    }
    all.addEventListener('change', function () {
      rows.forEach(function (r) { r.checked = all.checked })
      if (all.checked) form.querySelector('details').open = true
    })
    rows.forEach(function (r) {
      r.addEventListener('change', function () {
        sync()
        if (r.checked) form.querySelector('details').open = true
      })
    })
  }
  var action = form.querySelector('select[name="bulk_action"]')
  var fields = Array.prototype.slice.call(form.querySelectorAll('[data-for]'))
  var show = function () {
    fields.forEach(function (f) { f.hidden = f.getAttribute('data-for').split(' ').indexOf(action.value) < 0 })
  }
  if (action) {
    action.addEventListener('change', show)
    show()
  }
}
init()
document.addEventListener('live:replaced', init)
})()
