// Passkeys (WebAuthn). A form marked data-passkey="create" or "get" asks the server for options
// (POST to data-options-url, with the form's CSRF token), hands them to navigator.credentials, puts
// the authenticator's answer as JSON into the form's "credential" field and submits the form. The
// server (crm/access/passkeys.py) checks everything; this file only converts between base64url text
// and the ArrayBuffers the browser API wants.
(function () {
  "use strict";

  function toBuffer(text) {
    var b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) b64 += "=";
    var raw = atob(b64);
    var out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out.buffer;
  }
  function toText(buffer) {
    if (!buffer) return null;
    var bytes = new Uint8Array(buffer);
    var raw = "";
    for (var i = 0; i < bytes.length; i++) raw += String.fromCharCode(bytes[i]);
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function withBuffers(list) {
    return (list || []).map(function (c) { return Object.assign({}, c, { id: toBuffer(c.id) }); });
  }

  function publicKey(kind, options) {
    options.challenge = toBuffer(options.challenge);
    if (kind === "create") {
      options.user.id = toBuffer(options.user.id);
      options.excludeCredentials = withBuffers(options.excludeCredentials);
    } else {
      options.allowCredentials = withBuffers(options.allowCredentials);
    }
    return options;
  }

  function answer(credential) {
    var r = credential.response;
    var response = { clientDataJSON: toText(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = toText(r.attestationObject);
      response.transports = r.getTransports ? r.getTransports() : [];
    } else {
      response.authenticatorData = toText(r.authenticatorData);
      response.signature = toText(r.signature);
      response.userHandle = toText(r.userHandle);
    }
    return JSON.stringify({
      id: credential.id,
      rawId: toText(credential.rawId),
      type: credential.type,
      response: response,
      authenticatorAttachment: credential.authenticatorAttachment || null,
      clientExtensionResults: credential.getClientExtensionResults ? credential.getClientExtensionResults() : {},
    });
  }

  function say(form, message) {
    var box = form.querySelector("[data-passkey-error]");
    if (!box) return;
    box.textContent = message;
    box.hidden = !message;
  }

  function start(form) {
    var kind = form.dataset.passkey;
    if (!window.PublicKeyCredential || !navigator.credentials) {
      say(form, "This browser cannot use passkeys.");
      return;
    }
    say(form, "");
    var token = form.querySelector("input[name=csrfmiddlewaretoken]").value;
    fetch(form.dataset.optionsUrl, { method: "POST", headers: { "X-CSRFToken": token }, credentials: "same-origin" })
      .then(function (res) {
        if (!res.ok) throw new Error("The server refused to start (" + res.status + "): reload the page.");
        return res.json();
      })
      .then(function (options) {
        var request = { publicKey: publicKey(kind, options) };
        return kind === "create" ? navigator.credentials.create(request) : navigator.credentials.get(request);
      })
      .then(function (credential) {
        form.querySelector("input[name=credential]").value = answer(credential);
        form.submit();
      })
      .catch(function (err) {
        // NotAllowedError: the person cancelled, or the time ran out.
        say(form, err && err.name === "NotAllowedError" ? "No passkey was used." : String((err && err.message) || err));
      });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.dataset || !form.dataset.passkey) return;
    if (form.querySelector("input[name=credential]").value) return;
    event.preventDefault();
    if (form.reportValidity && !form.reportValidity()) return;
    start(form);
  });
})();
