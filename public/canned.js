// Canned responses in the reply box (the list is in the page, filled in for this ticket; without
// this script it can be read and copied): an Insert button per response, a search box, and "/" at
// the start of a line in the reply opening the list with the search focused; Enter inserts the
// first match and Escape goes back to the reply. Loaded from this site only.
(function () {
function init() {
  var panel = document.getElementById('canned')
  // Once per panel: a live page (live.js) puts a new reply box in when the ticket changes.
  if (!panel || panel.getAttribute('data-ready')) return
  panel.setAttribute('data-ready', '1')
  var box = document.getElementById(panel.getAttribute('data-for'))
  var search = panel.querySelector('.canned-search')
  var items = Array.prototype.slice.call(panel.querySelectorAll('.canned-options li'))
  if (!box || !search) return
  search.hidden = false
  // Where the "/" was typed, to be replaced by the response.
  var slashAt = -1

  function insert(item) {
    var text = item.querySelector('.canned-text').textContent
    var start = slashAt >= 0 ? slashAt : box.selectionStart
    var end = slashAt >= 0 ? slashAt + 1 : box.selectionEnd
    box.value = box.value.slice(0, start) + text + box.value.slice(end)
    slashAt = -1
    panel.open = false
    box.focus()
    box.selectionStart = box.selectionEnd = start + text.length
    box.dispatchEvent(new Event('input', { bubbles: true }))
  }

  function filter() {
    var words = search.value.toLowerCase().split(/\s+/).filter(Boolean)
    items.forEach(function (item) {
      var hay = item.getAttribute('data-title') + ' ' + item.querySelector('.canned-text').textContent.toLowerCase()
      item.hidden = !words.every(function (w) { return hay.indexOf(w) >= 0 })
    })
  }

  items.forEach(function (item) {
    var button = item.querySelector('.canned-insert')
    button.hidden = false
    button.addEventListener('click', function () { insert(item) })
  })
  search.addEventListener('input', filter)
  search.addEventListener('keydown', function (event) {
    if (event.key === 'Enter') {
      event.preventDefault()
      var first = items.filter(function (item) { return !item.hidden })[0]
      if (first) insert(first)
    } else if (event.key === 'Escape') {
      slashAt = -1
      panel.open = false
      box.focus()
    }
  })
  box.addEventListener('keydown', function (event) {
    if (event.key !== '/' || event.ctrlKey || event.metaKey || event.altKey) return
    var at = box.selectionStart
    var lineStart = at === 0 || box.value.charAt(at - 1) === '\n'
    if (!lineStart || box.selectionStart !== box.selectionEnd) return
    // Let the "/" be typed, then open the list on it.
    setTimeout(function () {
      slashAt = at
      panel.open = true
      search.value = ''
      filter()
      search.focus()
    }, 0)
  })
}
init()
document.addEventListener('live:replaced', init)
})()
