/**
 * Every string the login page shows, in one table per language. `en` is the reference: another
 * language must have exactly its keys (test/browser/page-logic.test.ts checks it). `{name}`
 * marks a value put in at run time (text, or an element such as a `<code>`). Messages that come
 * from the node itself are shown as the node wrote them. No DOM here: Node tests import it.
 *
 * To add a language: copy `de`, translate the values, add it to LANGUAGES.
 */

const en = {
  'doc.suffix': 'Calimero node',
  'top.tag': 'node sign-in',
  loading: 'Loading…',
  'refused.title': 'Request refused',
  'refused.heading': 'This sign-in request was refused',
  'refused.missing': 'This sign-in link has no {code}, so there is nowhere to send you afterwards.',
  'refused.missing2': 'Start the sign-in again from the app or command that sent you here.',
  'refused.untrusted1': 'It would send access to this node to',
  'refused.untrusted2': 'which this node does not trust, so no sign-in form is shown and nothing is handed over.',
  'refused.untrusted3':
    'If that app is yours, the node operator can trust its address by adding it to {code} in the configuration.',
  'refused.invalid': 'Its return address must be a full web address starting with http:// or https://. It was:',
  'unreachable.title': 'Cannot reach the node',
  'btn.retry': 'Try again',
  'btn.retrying': 'Trying…',
  'unavailable.title': 'Sign-in unavailable',
  'unavailable.heading': 'Sign-in is not available',
  'unavailable.text': 'No sign-in method is enabled on this node.',
  'setup.title': 'No account yet',
  'setup.heading': 'No account has been set up yet',
  'setup.intro': 'Nobody can sign in to this node until its operator creates the first account, in one of two ways:',
  'setup.cli': 'With the service stopped, run {code}, type the password on one line, then start the service again.',
  'setup.env': 'Or start the service with {user} and {password} (or {file}) set; the account is created when it starts.',
  'btn.check': 'Check again',
  'btn.checking': 'Checking…',
  'signin.title': 'Sign in',
  'signin.asking': ' is asking for access to this node. Sign in to review the request.',
  'field.username': 'Username',
  'field.password': 'Password',
  'btn.signin': 'Sign in',
  'btn.signingIn': 'Signing in…',
  'error.username': 'Enter your username.',
  'error.password': 'Enter your password.',
  'error.unreachable': 'Cannot reach the node. Check your connection and try again.',
  'error.status': 'The node answered {status}.',
  'error.other': 'Something went wrong: {message}',
  'error.sessionEnded': 'Your session has ended. Sign in again.',
  'retry.one': 'Try again in {n} second.',
  'retry.other': 'Try again in {n} seconds.',
  'consent.title': 'Approve access',
  'consent.lead': 'Allow access for',
  'consent.intro': 'This app is asking to use this node with your account. It will be able to:',
  'consent.none': 'Nothing beyond knowing that you approved it (no permissions requested).',
  'consent.context': 'Tied to context {id} as identity {identity}.',
  'consent.high': 'This request includes high-risk permissions. Approve only if you trust {origin}.',
  'consent.highBadge': 'High risk',
  'btn.approve': 'Approve',
  'btn.approving': 'Approving…',
  'btn.deny': 'Deny',
  'account.signedIn': 'Signed in as {user}.',
  'account.fallback': 'this account',
  'btn.sessions': 'Sessions',
  'btn.signOut': 'Sign out',
  'btn.signingOut': 'Signing out…',
  'signedOut.ok': 'You are signed out.',
  'signedOut.offline': 'You are signed out here; the node could not be reached to end the session.',
  'signedOut.everywhere': 'You are signed out everywhere.',
  'leave.title': 'Returning',
  'leave.heading': 'Returning to {origin}',
  'leave.approved': 'Access approved.',
  'leave.denied': 'You denied the request.',
  'sessions.title': 'Sessions',
  'sessions.heading': 'Your sessions',
  'sessions.intro': 'Where this account is signed in. Revoking a session signs it out at once.',
  'sessions.loading': 'Loading sessions…',
  'sessions.current': 'This page',
  'sessions.unknown': 'Unknown client',
  'sessions.from': 'from {address}',
  'sessions.created': 'Signed in {time}',
  'sessions.refreshed': 'last active {time}',
  'btn.revoke': 'Revoke',
  'btn.revoking': 'Revoking…',
  'btn.everywhere': 'Sign out everywhere',
  'btn.back': 'Back',
  'perm.admin': 'Full control of this node: every action, including accounts and keys',
  'perm.unknown': 'A permission this page does not recognise',
  'perm.alias': '{verb} {type} aliases in contexts',
  'perm.alias.create': 'Create',
  'perm.alias.list': 'List',
  'perm.alias.lookup': 'Look up',
  'perm.alias.delete': 'Delete',
  'scope.context': 'context {id}',
  'scope.key': 'key {id}',
  'scope.only': '{id} only',
  'scope.as': 'as {user}',
  'scope.method': 'method {method}',
  application: 'Install, remove and list applications',
  'application:list': 'See which applications are installed',
  'application:install': 'Install applications',
  'application:uninstall': 'Remove applications',
  package: 'Look up packages in the registry',
  'package:list-packages': 'List packages',
  'package:list-versions': 'List the versions of a package',
  'package:get-latest-version': 'Look up the latest version of a package',
  blob: 'Upload, read, list and delete stored files (blobs)',
  'blob:add': 'Upload files (blobs)',
  'blob:add:stream': 'Upload files (blobs) from a stream',
  'blob:add:file': 'Upload files (blobs) from a file',
  'blob:add:url': 'Upload files (blobs) from a URL',
  'blob:remove': 'Delete stored files (blobs)',
  'blob:list': 'List stored files (blobs)',
  'blob:get': 'Read stored files (blobs)',
  namespace: 'Create, list and manage namespaces',
  'namespace:create': 'Create namespaces',
  'namespace:list': 'List namespaces',
  'namespace:manage': 'Manage namespaces',
  group: 'Create, list and manage groups',
  'group:create': 'Create groups',
  'group:list': 'List groups',
  'group:manage': 'Manage groups',
  context: 'Be tied to a context',
  'context:create': 'Create contexts',
  'context:list': 'List contexts',
  'context:delete': 'Delete contexts',
  'context:leave': 'Leave contexts',
  'context:invite': 'Invite members to contexts',
  'context:execute': 'Call methods in contexts',
  'context:capabilities:grant': 'Grant capabilities to context members',
  'context:capabilities:revoke': 'Revoke capabilities of context members',
  'context:application:update': 'Change the application a context runs',
  'context:alias': 'Create, look up and delete context aliases',
  keys: 'Manage every access key and account on this node',
  'keys:create': 'Create access keys',
  'keys:list': 'List access keys',
  'keys:delete': 'Revoke access keys',
  'keys:revoke': 'Revoke access keys',
  'keys:clients': 'List the keys given to apps',
  'keys:clients:list': 'List the keys given to apps',
  'keys:clients:delete': 'Revoke the keys given to apps',
  'keys:permissions': 'Read the permissions of access keys',
  'keys:permissions:get': 'Read the permissions of access keys',
  'keys:permissions:update': 'Change the permissions of access keys',
};

export type MessageKey = keyof typeof en;
export type Messages = Readonly<Record<MessageKey, string>>;

const de: Messages = {
  'doc.suffix': 'Calimero-Knoten',
  'top.tag': 'Anmeldung am Knoten',
  loading: 'Wird geladen…',
  'refused.title': 'Anfrage abgelehnt',
  'refused.heading': 'Diese Anmeldeanfrage wurde abgelehnt',
  'refused.missing': 'Dieser Anmeldelink hat keine {code}, daher gibt es kein Ziel für danach.',
  'refused.missing2': 'Starten Sie die Anmeldung erneut in der App oder dem Befehl, der Sie hierher geschickt hat.',
  'refused.untrusted1': 'Sie würde Zugriff auf diesen Knoten senden an',
  'refused.untrusted2': 'dem dieser Knoten nicht vertraut. Deshalb wird kein Anmeldeformular gezeigt und nichts übergeben.',
  'refused.untrusted3':
    'Wenn diese App Ihnen gehört, kann der Betreiber des Knotens ihrer Adresse vertrauen, indem er sie in der Konfiguration zu {code} hinzufügt.',
  'refused.invalid': 'Ihre Rücksprungadresse muss eine vollständige Webadresse mit http:// oder https:// sein. Sie lautete:',
  'unreachable.title': 'Knoten nicht erreichbar',
  'btn.retry': 'Erneut versuchen',
  'btn.retrying': 'Wird versucht…',
  'unavailable.title': 'Anmeldung nicht verfügbar',
  'unavailable.heading': 'Anmeldung ist nicht verfügbar',
  'unavailable.text': 'Auf diesem Knoten ist keine Anmeldemethode aktiviert.',
  'setup.title': 'Noch kein Konto',
  'setup.heading': 'Es wurde noch kein Konto eingerichtet',
  'setup.intro':
    'Niemand kann sich an diesem Knoten anmelden, bis sein Betreiber das erste Konto anlegt, auf eine von zwei Arten:',
  'setup.cli': 'Bei gestopptem Dienst {code} ausführen, das Passwort in einer Zeile eingeben und den Dienst wieder starten.',
  'setup.env': 'Oder den Dienst mit gesetztem {user} und {password} (oder {file}) starten; das Konto wird beim Start angelegt.',
  'btn.check': 'Erneut prüfen',
  'btn.checking': 'Wird geprüft…',
  'signin.title': 'Anmelden',
  'signin.asking': ' bittet um Zugriff auf diesen Knoten. Melden Sie sich an, um die Anfrage zu prüfen.',
  'field.username': 'Benutzername',
  'field.password': 'Passwort',
  'btn.signin': 'Anmelden',
  'btn.signingIn': 'Anmeldung läuft…',
  'error.username': 'Geben Sie Ihren Benutzernamen ein.',
  'error.password': 'Geben Sie Ihr Passwort ein.',
  'error.unreachable': 'Der Knoten ist nicht erreichbar. Prüfen Sie Ihre Verbindung und versuchen Sie es erneut.',
  'error.status': 'Der Knoten antwortete mit {status}.',
  'error.other': 'Etwas ist schiefgegangen: {message}',
  'error.sessionEnded': 'Ihre Sitzung ist beendet. Melden Sie sich erneut an.',
  'retry.one': 'Versuchen Sie es in {n} Sekunde erneut.',
  'retry.other': 'Versuchen Sie es in {n} Sekunden erneut.',
  'consent.title': 'Zugriff erlauben',
  'consent.lead': 'Zugriff erlauben für',
  'consent.intro': 'Diese App möchte diesen Knoten mit Ihrem Konto nutzen. Sie darf dann:',
  'consent.none': 'Nichts außer zu wissen, dass Sie zugestimmt haben (keine Berechtigungen angefragt).',
  'consent.context': 'Gebunden an Kontext {id} als Identität {identity}.',
  'consent.high': 'Diese Anfrage enthält Berechtigungen mit hohem Risiko. Erlauben Sie sie nur, wenn Sie {origin} vertrauen.',
  'consent.highBadge': 'Hohes Risiko',
  'btn.approve': 'Erlauben',
  'btn.approving': 'Wird erlaubt…',
  'btn.deny': 'Ablehnen',
  'account.signedIn': 'Angemeldet als {user}.',
  'account.fallback': 'dieses Konto',
  'btn.sessions': 'Sitzungen',
  'btn.signOut': 'Abmelden',
  'btn.signingOut': 'Abmeldung läuft…',
  'signedOut.ok': 'Sie sind abgemeldet.',
  'signedOut.offline': 'Sie sind hier abgemeldet; der Knoten war nicht erreichbar, um die Sitzung zu beenden.',
  'signedOut.everywhere': 'Sie sind überall abgemeldet.',
  'leave.title': 'Zurück',
  'leave.heading': 'Zurück zu {origin}',
  'leave.approved': 'Zugriff erlaubt.',
  'leave.denied': 'Sie haben die Anfrage abgelehnt.',
  'sessions.title': 'Sitzungen',
  'sessions.heading': 'Ihre Sitzungen',
  'sessions.intro': 'Wo dieses Konto angemeldet ist. Eine widerrufene Sitzung wird sofort abgemeldet.',
  'sessions.loading': 'Sitzungen werden geladen…',
  'sessions.current': 'Diese Seite',
  'sessions.unknown': 'Unbekannter Client',
  'sessions.from': 'von {address}',
  'sessions.created': 'Angemeldet {time}',
  'sessions.refreshed': 'zuletzt aktiv {time}',
  'btn.revoke': 'Widerrufen',
  'btn.revoking': 'Wird widerrufen…',
  'btn.everywhere': 'Überall abmelden',
  'btn.back': 'Zurück',
  'perm.admin': 'Volle Kontrolle über diesen Knoten: jede Aktion, einschließlich Konten und Schlüssel',
  'perm.unknown': 'Eine Berechtigung, die diese Seite nicht kennt',
  'perm.alias': '{type}-Aliasse in Kontexten: {verb}',
  'perm.alias.create': 'anlegen',
  'perm.alias.list': 'auflisten',
  'perm.alias.lookup': 'nachschlagen',
  'perm.alias.delete': 'löschen',
  'scope.context': 'Kontext {id}',
  'scope.key': 'Schlüssel {id}',
  'scope.only': 'nur {id}',
  'scope.as': 'als {user}',
  'scope.method': 'Methode {method}',
  application: 'Anwendungen installieren, entfernen und auflisten',
  'application:list': 'Sehen, welche Anwendungen installiert sind',
  'application:install': 'Anwendungen installieren',
  'application:uninstall': 'Anwendungen entfernen',
  package: 'Pakete in der Registry nachschlagen',
  'package:list-packages': 'Pakete auflisten',
  'package:list-versions': 'Die Versionen eines Pakets auflisten',
  'package:get-latest-version': 'Die neueste Version eines Pakets nachschlagen',
  blob: 'Gespeicherte Dateien (Blobs) hochladen, lesen, auflisten und löschen',
  'blob:add': 'Dateien (Blobs) hochladen',
  'blob:add:stream': 'Dateien (Blobs) aus einem Stream hochladen',
  'blob:add:file': 'Dateien (Blobs) aus einer Datei hochladen',
  'blob:add:url': 'Dateien (Blobs) von einer URL hochladen',
  'blob:remove': 'Gespeicherte Dateien (Blobs) löschen',
  'blob:list': 'Gespeicherte Dateien (Blobs) auflisten',
  'blob:get': 'Gespeicherte Dateien (Blobs) lesen',
  namespace: 'Namensräume anlegen, auflisten und verwalten',
  'namespace:create': 'Namensräume anlegen',
  'namespace:list': 'Namensräume auflisten',
  'namespace:manage': 'Namensräume verwalten',
  group: 'Gruppen anlegen, auflisten und verwalten',
  'group:create': 'Gruppen anlegen',
  'group:list': 'Gruppen auflisten',
  'group:manage': 'Gruppen verwalten',
  context: 'An einen Kontext gebunden sein',
  'context:create': 'Kontexte anlegen',
  'context:list': 'Kontexte auflisten',
  'context:delete': 'Kontexte löschen',
  'context:leave': 'Kontexte verlassen',
  'context:invite': 'Mitglieder in Kontexte einladen',
  'context:execute': 'Methoden in Kontexten aufrufen',
  'context:capabilities:grant': 'Kontextmitgliedern Fähigkeiten gewähren',
  'context:capabilities:revoke': 'Fähigkeiten von Kontextmitgliedern entziehen',
  'context:application:update': 'Die Anwendung eines Kontexts ändern',
  'context:alias': 'Kontext-Aliasse anlegen, nachschlagen und löschen',
  keys: 'Jeden Zugriffsschlüssel und jedes Konto auf diesem Knoten verwalten',
  'keys:create': 'Zugriffsschlüssel anlegen',
  'keys:list': 'Zugriffsschlüssel auflisten',
  'keys:delete': 'Zugriffsschlüssel widerrufen',
  'keys:revoke': 'Zugriffsschlüssel widerrufen',
  'keys:clients': 'Die an Apps vergebenen Schlüssel auflisten',
  'keys:clients:list': 'Die an Apps vergebenen Schlüssel auflisten',
  'keys:clients:delete': 'Die an Apps vergebenen Schlüssel widerrufen',
  'keys:permissions': 'Die Berechtigungen von Zugriffsschlüsseln lesen',
  'keys:permissions:get': 'Die Berechtigungen von Zugriffsschlüsseln lesen',
  'keys:permissions:update': 'Die Berechtigungen von Zugriffsschlüsseln ändern',
};

export const LANGUAGES: Readonly<Record<string, Messages>> = { en, de };
export type Language = keyof typeof LANGUAGES;

let lang = 'en';
let table: Messages = en;

/**
 * The page's language: `?lang=` when it names a known language, else the first of the
 * browser's languages (`de-AT` counts as `de`) that is known, else English.
 */
export function pickLanguage(override: string | null, preferred: readonly string[]): string {
  for (const tag of [override ?? '', ...preferred]) {
    const base = tag.toLowerCase().split('-')[0] ?? '';
    if (Object.hasOwn(LANGUAGES, base)) return base;
  }
  return 'en';
}

export function setLanguage(code: string): void {
  lang = Object.hasOwn(LANGUAGES, code) ? code : 'en';
  table = LANGUAGES[lang] ?? en;
}

export function currentLanguage(): string {
  return lang;
}

/** Whether the table has a string for `key` (permission names are looked up by value). */
export function has(key: string): key is MessageKey {
  return Object.hasOwn(en, key);
}

/** The string for `key` with `{name}` replaced by `vars[name]`. */
export function t(key: MessageKey, vars: Readonly<Record<string, string | number>> = {}): string {
  return table[key].replace(/\{(\w+)\}/g, (all, name: string) => (name in vars ? String(vars[name]) : all));
}

/** The string for `key` split around its `{name}` slots, each filled with `vars[name]` (a node or text). */
export function parts<T>(key: MessageKey, vars: Readonly<Record<string, T>>): Array<string | T> {
  const out: Array<string | T> = [];
  for (const [i, piece] of table[key].split(/\{(\w+)\}/).entries()) {
    if (i % 2 === 0) {
      if (piece !== '') out.push(piece);
    } else out.push(piece in vars ? (vars[piece] as T) : `{${piece}}`);
  }
  return out;
}

/**
 * A node message as shown: the login's 401 reads `Authentication failed: Authentication failed:
 * …` on the wire (wire §3.2 step 12, kept for the clients), shown with the prefix once. Node
 * messages are shown in English as sent.
 */
export function displayMessage(message: string): string {
  return message.replace(/^(?:Authentication failed: )+/, 'Authentication failed: ');
}
