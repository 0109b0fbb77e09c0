// A live page: follows its stream (Server-Sent Events, opened once; the browser reconnects by
// itself) and, when told the page's ticket or list changed, fetches the page again and puts in
// each part the person is not busy with (typing in, or focused on). A part they are busy with is
// left alone and a notice offers to reload. The desk's ticket page also shows who else has the
// ticket open and tells the others when its person starts writing a reply. Loaded from this site
// only (the content security policy allows no inline script); everything works without it.
(function () {
  var live = document.getElementById('live')
  if (!live || typeof EventSource === 'undefined' || typeof DOMParser === 'undefined') return
  var d = live.dataset
  var status = document.getElementById('live-status')
  var notice = document.getElementById('live-notice')
  var presenceLine = document.getElementById('presence')
  var presenceId = null
  var fetching = false
  var again = false

  function words(text, values) {
    return text.replace(/\{(\w+)\}/g, function (m, k) { return values[k] === undefined ? m : values[k] })
  }
  function say(text) {
    if (!status) return
    status.textContent = ''
    setTimeout(function () { status.textContent = text }, 50)
  }

  /** A part is busy when something in it was changed and not sent, or the focus is in it. */
  function busy(region) {
    if (region.contains(document.activeElement) && document.activeElement !== document.body) return true
    var fields = region.querySelectorAll('input, textarea, select')
    for (var i = 0; i < fields.length; i++) {
      var f = fields[i]
      if (f.type === 'hidden' || f.type === 'submit' || f.type === 'button') continue
      if (f.type === 'file') { if (f.files && f.files.length) return true; continue }
      if (f.type === 'checkbox' || f.type === 'radio') { if (f.checked !== f.defaultChecked) return true; continue }
      if (f.tagName === 'SELECT') {
        if (f.multiple) {
          for (var j = 0; j < f.options.length; j++) if (f.options[j].selected !== f.options[j].defaultSelected) return true
          continue
        }
        // A single select without a marked option starts on its first.
        var start = 0
        for (var o = 0; o < f.options.length; o++) if (f.options[o].defaultSelected) start = o
        if (f.selectedIndex !== start) return true
        continue
      }
      if (f.value !== f.defaultValue) return true
    }
    // An open <details> the person opened (a form in the side panel) stays as it is.
    var opened = region.querySelectorAll('details')
    for (var k = 0; k < opened.length; k++) if (opened[k].open !== opened[k].hasAttribute('data-was-open')) return true
    return false
  }
  function markDetails(root) {
    var all = root.querySelectorAll('details')
    for (var i = 0; i < all.length; i++) if (all[i].open) all[i].setAttribute('data-was-open', '')
  }

  function noteIds(root) {
    var out = {}
    var notes = root.querySelectorAll('[id^="note-"]')
    for (var i = 0; i < notes.length; i++) out[notes[i].id] = notes[i]
    return out
  }

  function refresh() {
    if (fetching) { again = true; return }
    fetching = true
    var before = noteIds(document)
    fetch(location.pathname + location.search, { credentials: 'same-origin', headers: { accept: 'text/html', 'x-live-refresh': '1' } })
      .then(function (res) { return res.ok ? res.text() : null })
      .then(function (html) {
        if (html === null) return
        var doc = new DOMParser().parseFromString(html, 'text/html')
        var held = []
        var regions = document.querySelectorAll('[data-live-region]')
        for (var i = 0; i < regions.length; i++) {
          var region = regions[i]
          var next = doc.getElementById(region.id)
          if (!next) { held.push(region.id); continue }
          // The reply box says itself what changed while its person was writing.
          if (busy(region)) { if (region.id !== 'reply') held.push(region.id); continue }
          var fresh = document.importNode(next, true)
          region.replaceWith(fresh)
          markDetails(fresh)
        }
        var after = noteIds(document)
        var authors = []
        for (var id in after) if (!before[id]) {
          var who = after[id].getAttribute('data-author') || d.tSomeone
          if (authors.indexOf(who) < 0) authors.push(who)
        }
        var writing = document.getElementById('reply-changed')
        var reply = document.getElementById('reply')
        if (writing && reply && reply.contains(writing) && reply.hasAttribute('data-stale')) {
          // The reply box was kept (someone is writing in it): say what changed meanwhile.
          writing.textContent = words(d.tChangedWriting, { what: authors.length ? words(d.tNewNote, { who: authors.join(d.tAnd) }).replace(/\.$/, '') : d.tUpdated.replace(/\.$/, '') })
          writing.hidden = false
        }
        if (held.length && notice) {
          notice.setAttribute('data-held', held.join(' '))
          notice.hidden = false
        }
        say(authors.length ? words(d.tNewNote, { who: authors.join(d.tAnd) }) : d.tUpdated)
        document.dispatchEvent(new CustomEvent('live:replaced'))
      })
      .catch(function () {})
      .then(function () {
        fetching = false
        if (again) { again = false; refresh() }
      })
  }

  function showPresence(people) {
    if (!presenceLine) return
    presenceLine.textContent = people.map(function (p) {
      return words(p.activity === 'replying' ? d.tReplying : d.tViewing, { name: p.name })
    }).join(' · ')
    presenceLine.hidden = people.length === 0
  }

  // The composer tells the others when its person writes (and when they stop, after a pause).
  var activity = 'viewing'
  var idle = null
  function tell(what) {
    if (!presenceId || !d.presenceUrl || activity === what) return
    activity = what
    var body = new URLSearchParams({ _csrf: d.csrf, presence: String(presenceId), activity: what })
    fetch(d.presenceUrl, { method: 'POST', credentials: 'same-origin', body: body }).catch(function () {})
  }
  document.addEventListener('input', function (event) {
    var reply = document.getElementById('reply')
    if (!reply || !reply.contains(event.target) || event.target.tagName !== 'TEXTAREA') return
    reply.setAttribute('data-stale', '')
    tell('replying')
    clearTimeout(idle)
    idle = setTimeout(function () { tell('viewing') }, 20000)
  })

  var source = new EventSource(d.url)
  source.addEventListener('hello', function (event) {
    var data = JSON.parse(event.data)
    presenceId = data.presence || null
    activity = 'viewing'
    // After a reconnection, whatever happened meanwhile is fetched.
    if (source.seenHello) refresh()
    source.seenHello = true
  })
  source.addEventListener('changed', refresh)
  source.addEventListener('queue', refresh)
  source.addEventListener('presence', function (event) { showPresence(JSON.parse(event.data).people) })
  // The staff header's bell: its count and its accessible name, as the layout draws them.
  source.addEventListener('bell', function (event) {
    var bell = document.querySelector('a.bell')
    if (!bell) return
    var data = JSON.parse(event.data)
    bell.setAttribute('aria-label', data.label)
    bell.classList.toggle('has-unread', data.count > 0)
    var count = bell.querySelector('.bell-count')
    if (data.count > 0 && !count) {
      count = document.createElement('span')
      count.className = 'bell-count'
      count.setAttribute('aria-hidden', 'true')
      bell.appendChild(document.createTextNode(' '))
      bell.appendChild(count)
    }
    if (count) {
      count.textContent = data.text
      count.hidden = data.count === 0
    }
  })
  source.addEventListener('gone', function (event) {
    source.close()
    var reason = JSON.parse(event.data).reason
    if (notice) {
      notice.querySelector('span').textContent = reason === 'session' ? d.tGoneSession : d.tGoneTicket
      notice.hidden = false
    }
  })
  markDetails(document)
})()
