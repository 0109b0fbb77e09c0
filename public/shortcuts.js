// The desk's keyboard shortcuts. On the queue: j / k move through the rows (Enter opens one),
// and the list's order is kept for the ticket pages opened from it. On a ticket: r writes a reply,
// n an internal note, j / k open the next or previous ticket of the queue it was opened from.
// "?" lists them. Keys do nothing while the person types in a field or holds a modifier.
(function () {
  var dialog = document.getElementById('shortcuts')
  if (!dialog) return
  var page = dialog.getAttribute('data-page')
  var KEY = 'casebridge.queue'
  var hint = document.getElementById('shortcuts-hint')
  if (hint) hint.hidden = false

  function typing(target) {
    if (!target || !target.tagName) return false
    var tag = target.tagName
    return tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || target.isContentEditable
  }
  function rowLinks() {
    return Array.prototype.slice.call(document.querySelectorAll('table.queue tbody tr a[href^="/desk/tickets/"]'))
      .filter(function (a) { return /^\/desk\/tickets\/\d+$/.test(a.getAttribute('href')) })
  }
  function say(text) {
    var status = document.getElementById('live-status')
    if (status) { status.textContent = ''; setTimeout(function () { status.textContent = text }, 50) }
    var flash = document.getElementById('shortcut-flash')
    if (!flash) {
      flash = document.createElement('p')
      flash.id = 'shortcut-flash'
      flash.className = 'flash flash-info'
      flash.setAttribute('role', 'status')
      var main = document.querySelector('main') || document.body
      main.insertBefore(flash, main.firstChild)
    }
    flash.textContent = text
  }

  if (page === 'queue') {
    // The order of this page's rows, for j / k on the tickets opened from it.
    var numbers = rowLinks().map(function (a) { return Number(a.getAttribute('href').split('/').pop()) })
    var unique = numbers.filter(function (n, i) { return numbers.indexOf(n) === i })
    try { sessionStorage.setItem(KEY, JSON.stringify({ numbers: unique, url: location.pathname + location.search })) } catch (e) {}
  }

  function moveRow(step) {
    var links = rowLinks()
    if (!links.length) return
    var at = links.indexOf(document.activeElement)
    var next = links[Math.min(Math.max(at + step, 0), links.length - 1)]
    if (at < 0) next = links[step > 0 ? 0 : links.length - 1]
    next.focus()
    var row = next.closest('tr')
    if (row) row.scrollIntoView({ block: 'nearest' })
  }

  function moveTicket(step) {
    var stored = null
    try { stored = JSON.parse(sessionStorage.getItem(KEY) || 'null') } catch (e) {}
    var here = Number(location.pathname.split('/')[3])
    var at = stored ? stored.numbers.indexOf(here) : -1
    if (at < 0) return say(dialog.getAttribute('data-t-not-from-queue'))
    var next = stored.numbers[at + step]
    if (next === undefined) return say(dialog.getAttribute('data-t-end'))
    location.href = '/desk/tickets/' + next
  }

  function compose(mode) {
    var radio = document.querySelector('#reply input[name="mode"][value="' + mode + '"]')
    var box = document.getElementById('note-body')
    if (!box) return
    if (radio) radio.checked = true
    box.scrollIntoView({ block: 'center' })
    box.focus()
  }

  document.addEventListener('keydown', function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) return
    if (dialog.open) return
    var key = event.key
    if (key === '?') {
      event.preventDefault()
      if (dialog.showModal) dialog.showModal()
      else dialog.setAttribute('open', '')
      return
    }
    if (page === 'queue') {
      if (key === 'j') { event.preventDefault(); moveRow(1) }
      else if (key === 'k') { event.preventDefault(); moveRow(-1) }
      return
    }
    if (key === 'r') { event.preventDefault(); compose('reply') }
    else if (key === 'n') { event.preventDefault(); compose('internal') }
    else if (key === 'j') { event.preventDefault(); moveTicket(1) }
    else if (key === 'k') { event.preventDefault(); moveTicket(-1) }
  })
})()
