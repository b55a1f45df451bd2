// Small DOM-building helpers. User data only ever reaches the DOM through textContent and
// attributes (the `text` prop), never innerHTML.

/** The element carrying data-testid=<testid>; the page's stable names for its parts. */
export const $ = (testid) => document.querySelector(`[data-testid="${testid}"]`);

export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : value);
  }
  node.append(...children.filter(Boolean));
  return node;
}
