// Suggested knowledge-base articles on the staff ticket page: "Insert link" and "Insert text" put
// the article's client link or its plain text into the reply at the cursor, instead of loading
// the page again with the reply filled in (what the links do without this script). The article is
// noted in the reply form, so that sending it links the article to the ticket. Text of an article
// the requester may not read goes into an internal note. Loaded from this site only.
(function () {
function init() {
  var panel = document.getElementById('kb-suggested')
  // Once per panel: a live page (live.js) puts new regions in when the ticket changes.
  if (!panel || panel.getAttribute('data-ready')) return
  panel.setAttribute('data-ready', '1')
  panel.addEventListener('click', function (event) {
    var target = event.target
    var button = target && target.closest ? target.closest('a.kb-insert') : null
    if (!button) return
    var box = document.getElementById(panel.getAttribute('data-for'))
    var item = button.closest('.kb-suggestion')
    if (!box || !item) return
    event.preventDefault()
    var as = button.getAttribute('data-as')
    var offers = (item.getAttribute('data-offers') || '').split(' ')
    var text = as === 'link' ? item.querySelector('.kb-url').textContent : item.querySelector('.kb-text').textContent
    if (as === 'text' && offers.indexOf('link') < 0) {
      var internal = box.form && box.form.querySelector('input[name="mode"][value="internal"]')
      if (internal) internal.checked = true
    }
    var start = box.selectionStart
    var end = box.selectionEnd
    var before = box.value.slice(0, start)
    // A link on its own words: a space before it when it would touch the word before.
    var lead = as === 'link' && before && !/\s$/.test(before) ? ' ' : ''
    box.value = before + lead + text + box.value.slice(end)
    box.focus()
    box.selectionStart = box.selectionEnd = start + lead.length + text.length
    box.dispatchEvent(new Event('input', { bubbles: true }))
    var noted = box.form && box.form.querySelector('input[name="kb_articles"]')
    var id = item.getAttribute('data-article')
    if (noted && id) {
      var ids = noted.value ? noted.value.split(',') : []
      if (ids.indexOf(id) < 0) ids.push(id)
      noted.value = ids.join(',')
    }
  })
}
init()
document.addEventListener('live:replaced', init)
})()
