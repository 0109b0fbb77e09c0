// Help-center suggestions beside the portal's new-ticket form: as the client types the title and
// description, about 300 ms after the last key the panel asks /help/suggest for the matching
// articles (a stale request is aborted) and the panel's live region says how many there are.
// The links are ordinary links, reachable by Tab. Before one is followed, the form's text is kept
// in this tab's sessionStorage, so "I still need help" on the article brings it back. Without
// this script the panel's "search the help center first" button does the same on the server.
(function () {
  var panel = document.querySelector('.kb-suggest')
  if (!panel || !window.fetch || !window.AbortController) return
  var form = document.getElementById(panel.getAttribute('data-for'))
  var results = document.getElementById('kb-suggest-results')
  if (!form || !results) return
  var title = form.querySelector('[name="title"]')
  var description = form.querySelector('[name="description"]')
  var KEY = 'casebridge.ticketDraft'
  var FIELDS = ['title', 'description', 'url', 'priority', 'product_id', 'category_id', 'desk_id', 'account_id']
  var timer = null
  var pending = null
  var lastAsked = null

  function words() {
    var text = ((title && title.value) || '') + ' ' + ((description && description.value) || '').slice(0, 300)
    return text.replace(/\s+/g, ' ').trim().slice(0, 200)
  }

  function ask() {
    var q = words()
    if (q === lastAsked) return
    lastAsked = q
    if (pending) pending.abort()
    var controller = new AbortController()
    pending = controller
    fetch('/help/suggest?q=' + encodeURIComponent(q), { signal: controller.signal, credentials: 'same-origin', headers: { accept: 'text/html' } })
      .then(function (res) { return res.ok ? res.text() : null })
      .then(function (html) {
        if (html === null || pending !== controller) return
        pending = null
        // Our own server's fragment: every word in it is escaped there.
        results.innerHTML = html
      })
      .catch(function () { /* aborted, or offline: the panel keeps what it showed */ })
  }

  function later() {
    clearTimeout(timer)
    timer = setTimeout(ask, 300)
  }

  function keep() {
    var draft = {}
    FIELDS.forEach(function (name) {
      var field = form.querySelector('[name="' + name + '"]')
      if (field && field.value) draft[name] = field.value
    })
    try { sessionStorage.setItem(KEY, JSON.stringify(draft)) } catch (e) { /* storage off: the server's step still works */ }
  }

  function restore() {
    if (!/[?&]draft=1(&|$)/.test(location.search)) return
    var draft
    try { draft = JSON.parse(sessionStorage.getItem(KEY) || 'null') } catch (e) { draft = null }
    if (!draft) return
    FIELDS.forEach(function (name) {
      var field = form.querySelector('[name="' + name + '"]')
      if (field && !field.value && typeof draft[name] === 'string') field.value = draft[name]
    })
  }

  restore()
  if (title) title.addEventListener('input', later)
  if (description) description.addEventListener('input', later)
  results.addEventListener('click', function (event) {
    var link = event.target.closest && event.target.closest('a')
    if (link) keep()
  })
  form.addEventListener('submit', function () {
    try { sessionStorage.removeItem(KEY) } catch (e) { /* nothing kept */ }
  })
  if (words() !== '' && results.querySelector('[data-suggest="idle"]')) ask()
})()
