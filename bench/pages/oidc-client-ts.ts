// The peer for start-up: oidc-client-ts's UserManager.getUser() after a reload, the user
// kept in sessionStorage as oidc-client-ts keeps it (the benchmark writes it there first).
import { UserManager, WebStorageStateStore } from 'oidc-client-ts';

const params = new URLSearchParams(location.search);
performance.mark('peer:created');
const manager = new UserManager({
  authority: params.get('authority')!,
  client_id: params.get('client_id')!,
  redirect_uri: `${location.origin}/callback`,
  userStore: new WebStorageStateStore({ store: sessionStorage }),
});
void manager.getUser().then((user) => {
  performance.mark('peer:known');
  document.body.dataset.user = user ? 'yes' : 'no';
  document.body.dataset.ready = 'true';
});
