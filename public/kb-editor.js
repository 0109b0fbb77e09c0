// The article editor (views/desk/kb-edit.eta), enhanced: the preview follows the text as it is
// typed (the server renders and sanitizes it, the same as saving: POST /desk/kb/preview), and
// "Insert image" puts an uploaded picture's Markdown at the cursor. Without this script the
// Preview button and the Markdown shown beside each picture do the same. Loaded from this site only.
(function () {
  var form = document.getElementById('kb-form')
  var body = document.getElementById('body')
  var section = document.getElementById('kb-preview-section')
  var preview = document.getElementById('kb-preview')
  if (!form || !body || !section || !preview) return
  var token = form.querySelector('input[name="_csrf"]')
  var timer = null
  var asked = 0

  function refresh() {
    var mine = ++asked
    var data = new URLSearchParams()
    data.set('_csrf', token ? token.value : '')
    data.set('body', body.value)
    fetch(body.getAttribute('data-preview'), { method: 'POST', body: data, credentials: 'same-origin', headers: { 'content-type': 'application/x-www-form-urlencoded' } })
      .then(function (res) { return res.ok ? res.text() : null })
      .then(function (html) {
        // Only the answer to the latest text; the HTML is the server's sanitized rendering.
        if (mine !== asked || html === null) return
        preview.innerHTML = html
        section.hidden = false
      })
      .catch(function () {})
  }

  body.addEventListener('input', function () {
    clearTimeout(timer)
    timer = setTimeout(refresh, 400)
  })

  Array.prototype.forEach.call(document.querySelectorAll('.kb-insert'), function (button) {
    button.hidden = false
    button.addEventListener('click', function () {
      var text = button.getAttribute('data-markdown')
      var start = body.selectionStart
      var end = body.selectionEnd
      body.value = body.value.slice(0, start) + text + body.value.slice(end)
      body.focus()
      body.selectionStart = body.selectionEnd = start + text.length
      body.dispatchEvent(new Event('input', { bubbles: true }))
    })
  })
})()
