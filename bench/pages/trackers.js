// Installed before the page's scripts (plain JavaScript: a transpiler's helpers would not
// exist in the page): tracks the listeners added and not removed, the timers pending and
// the BroadcastChannels open; window.tracked() counts them.
(() => {
  const listeners = new Map();
  const ids = new WeakMap();
  let nextId = 0;
  const keyOf = (type, fn, options) => {
    if (typeof fn !== 'object' && typeof fn !== 'function') return null;
    if (fn === null) return null;
    if (!ids.has(fn)) ids.set(fn, (nextId += 1));
    const capture = typeof options === 'boolean' ? options : Boolean(options && options.capture);
    return `${type}|${ids.get(fn)}|${capture}`;
  };
  const add = EventTarget.prototype.addEventListener;
  const remove = EventTarget.prototype.removeEventListener;
  EventTarget.prototype.addEventListener = function tracked(type, fn, options) {
    const key = keyOf(type, fn, options);
    // A { once } listener goes by itself when it fires: not counted.
    if (key && !(typeof options === 'object' && options && options.once)) {
      if (!listeners.has(this)) listeners.set(this, new Set());
      listeners.get(this).add(key);
    }
    return add.call(this, type, fn, options);
  };
  EventTarget.prototype.removeEventListener = function tracked(type, fn, options) {
    const key = keyOf(type, fn, options);
    if (key && listeners.has(this)) listeners.get(this).delete(key);
    return remove.call(this, type, fn, options);
  };
  const pending = new Set();
  const setT = window.setTimeout.bind(window);
  const clearT = window.clearTimeout.bind(window);
  const setI = window.setInterval.bind(window);
  const clearI = window.clearInterval.bind(window);
  window.setTimeout = (fn, delay, ...rest) => {
    const id = setT(() => {
      pending.delete(id);
      if (typeof fn === 'function') fn(...rest);
    }, delay);
    pending.add(id);
    return id;
  };
  window.clearTimeout = (id) => {
    pending.delete(id);
    clearT(id);
  };
  window.setInterval = (fn, delay, ...rest) => {
    const id = setI(fn, delay, ...rest);
    pending.add(id);
    return id;
  };
  window.clearInterval = (id) => {
    pending.delete(id);
    clearI(id);
  };
  let channels = 0;
  const Original = window.BroadcastChannel;
  window.BroadcastChannel = class extends Original {
    #open = true;
    constructor(name) {
      super(name);
      channels += 1;
    }
    close() {
      if (this.#open) channels -= 1;
      this.#open = false;
      super.close();
    }
  };
  window.tracked = () => ({
    listeners: [...listeners.values()].reduce((sum, set) => sum + set.size, 0),
    timers: pending.size,
    channels,
  });
})();
