/* global document, HTMLScriptElement -- runs in the browser */
// From nhsuk-frontend's page template, where it is inline: the Content-Security-Policy allows
// scripts from Relay's own origin only, so it is served as a file. It runs at the start of <body>.
document.body.className +=
  ' js-enabled' + ('noModule' in HTMLScriptElement.prototype ? ' nhsuk-frontend-supported' : '');
