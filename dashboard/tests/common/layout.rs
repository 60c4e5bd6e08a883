//! Layout checks for the browser tests: the page no wider than the window, nothing
//! sticking out of it, no overlapping siblings — and a DOM poll helper they share.
#![allow(dead_code)]

use super::webdriver::Browser;
use std::time::{Duration, Instant};

/// Polls `js` (a script returning a boolean) until it answers true.
pub async fn wait_true(b: &Browser, what: &str, timeout: Duration, js: &str) {
    let t0 = Instant::now();
    while b.script(js).await != serde_json::json!(true) {
        assert!(t0.elapsed() < timeout, "{what}: not true after {timeout:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// What is wrong with the layout on screen: the page wider than the window, an
/// element sticking out of the window on the right (unless inside a box that scrolls
/// or clips it, like a wide table's own scroller), siblings that overlap.
pub const LAYOUT_PROBLEMS: &str = r#"
const W = window.innerWidth, de = document.documentElement, out = [];
const name = e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
  (typeof e.className === 'string' && e.className.trim() ? '.' + e.className.trim().split(/\s+/).join('.') : '');
if (de.scrollWidth > W) out.push(`page is ${de.scrollWidth}px wide in a ${W}px window`);
const inScroller = e => {
  for (let p = e.parentElement; p && p !== document.body && p !== de; p = p.parentElement) {
    if (getComputedStyle(p).overflowX !== 'visible') return true;
  }
  return false;
};
const shown = e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
for (const e of document.body.querySelectorAll('*')) {
  if (!shown(e)) continue;
  const r = e.getBoundingClientRect();
  if (r.right > W + 1 && !inScroller(e)) out.push(`${name(e)} ends at ${Math.round(r.right)}px`);
}
for (const c of document.querySelectorAll('header.top, nav, main, .figures, .scenes, .actions, form.inline, li.incident, .who')) {
  const kids = [...c.children].filter(shown);
  for (let i = 0; i < kids.length; i++) for (let j = i + 1; j < kids.length; j++) {
    const a = kids[i].getBoundingClientRect(), b = kids[j].getBoundingClientRect();
    const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
    const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
    if (w > 2 && h > 2) out.push(`${name(kids[i])} overlaps ${name(kids[j])} (${Math.round(w)}x${Math.round(h)}px)`);
  }
}
return out.slice(0, 8);
"#;

/// Opens `page`, waits until it is drawn (and no longer loading), then requires a
/// clean layout (polled for a few seconds so a re-render in flight does not count).
pub async fn check_layout(b: &Browser, page: &str, w: u32, h: u32) {
    if page.starts_with("/incidents/") {
        b.goto(&format!(
            "{}{page}",
            b.script("return location.origin").await.as_str().unwrap()
        ))
        .await;
    } else {
        b.click(&format!("nav a[href=\"{page}\"]")).await;
    }
    wait_true(
        b,
        &format!("{page} drawn"),
        Duration::from_secs(30),
        &format!(
            "return location.pathname === {page:?} && !!document.querySelector('main section, main form, main svg') &&
               ![...document.querySelectorAll('main p.empty')].some(e => e.textContent.startsWith('Loading'))"
        ),
    )
    .await;
    let t0 = Instant::now();
    loop {
        let problems = b.script(LAYOUT_PROBLEMS).await;
        if problems.as_array().is_some_and(|a| a.is_empty()) {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(5),
            "{page} at {w}x{h}: {problems}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// A script listing the buttons under `root_css` a thumb cannot reach: each is scrolled to
/// the middle of the window and must be the element under its own centre there (not
/// covered by a sticky header or a neighbour) and inside the window's width.
pub fn unreachable_buttons(root_css: &str) -> String {
    format!("const root = document.querySelector({root_css:?}) || document.body;\n{UNREACHABLE}")
}

const UNREACHABLE: &str = r#"
const out = [];
for (const b of root.querySelectorAll('button')) {
  b.scrollIntoView({block: 'center'});
  const r = b.getBoundingClientRect();
  const label = (b.id ? '#' + b.id : b.className) + ' ' + b.textContent.trim();
  if (r.width === 0 || r.height === 0) continue;
  if (r.left < 0 || r.right > window.innerWidth) { out.push(`${label} spans ${Math.round(r.left)}..${Math.round(r.right)}px`); continue; }
  const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  if (!hit || !(hit === b || b.contains(hit))) out.push(`${label} is covered by ${hit ? hit.tagName.toLowerCase() + (hit.id ? '#' + hit.id : '') : 'nothing'}`);
}
window.scrollTo(0, 0);
return out;
"#;
