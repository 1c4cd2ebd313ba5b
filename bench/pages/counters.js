// Installed before the page's scripts (plain JavaScript: a transpiler's helpers would not
// exist in the page): counts the IndexedDB writes, channel posts and Web Storage writes
// the page makes, on window.counts.
(() => {
  const counts = { idb: 0, posts: 0, storage: 0 };
  window.counts = counts;
  const wrap = (proto, key, field) => {
    const original = proto[key];
    proto[key] = function counted(...args) {
      counts[field] += 1;
      return original.apply(this, args);
    };
  };
  wrap(IDBObjectStore.prototype, 'put', 'idb');
  wrap(IDBObjectStore.prototype, 'add', 'idb');
  wrap(BroadcastChannel.prototype, 'postMessage', 'posts');
  wrap(Storage.prototype, 'setItem', 'storage');
})();
