#!/usr/bin/env python3
# groups.py LABEL...: CPU seconds of a measure.sh build by group of crates (from cargo --timings).
import json,re,sys,glob,collections,os
groups=[('CaseLedger own crates',r'^caseledger'),('sqlx',r'^sqlx'),('async-graphql',r'^async-graphql'),
('parser generators (cynic, logos, ouroboros)',r'^(cynic|ouroboros|logos|counter|rkyv|darling.*0\.20)'),
('derive/proc-macro toolkit (syn, darling, serde_derive, thiserror-impl…)',r'^(syn|quote|proc-macro2|darling|serde_derive|thiserror-impl|darling_core|darling_macro|clap_derive|maud_macros|zeroize_derive|prost-derive|async-trait|zerofrom-derive|yoke-derive|synstructure|tokio-macros|pin-project-internal|futures-macro|tracing-attributes|strum_macros|derive_more|displaydoc|zerovec-derive|ident_case)$'),
('token checking (JWT, RustCrypto)',r'^(jsonwebtoken|rsa|num-bigint|num-bigint-dig|crypto-bigint|p256|p384|ecdsa|elliptic-curve|sha1|sha2|hmac|digest|signature|pkcs1|pkcs8|spki|der|ed25519|ed25519-dalek|curve25519|base16ct|sec1|primeorder|ff|group|rfc6979|simple_asn1|pem)'),
('TLS (rustls, ring, webpki)',r'^(rustls|ring|rustls-webpki|rustls-pki-types|webpki-roots|untrusted)'),
('spreadsheet writer and deflate',r'^(rust_xlsxwriter|zip|flate2|zlib-rs|miniz_oxide|crc32fast|simd-adler32|adler2)'),
('HTTP (axum, hyper, tower, ureq, h2)',r'^(axum|hyper|tower|http|h2|ureq|httparse|tower-http|tower-layer|tower-service|mime)'),
('tokio and futures',r'^(tokio|futures|mio)'),
('serde and JSON',r'^(serde|serde_json|serde_core|ryu|itoa)'),
('metrics',r'^metrics'),
('features the demo leaves out (OpenTelemetry, SMTP, GraphiQL templates, OIDC client)',r'^(opentelemetry|prost|tracing-opentelemetry|handlebars|pest|lettre|email-encoding|openidconnect|oauth2|serde_with)'),
('command line (clap)',r'^clap'),
('GP Connect fake PKI (rcgen, x509)',r'^(rcgen|x509|yasna|time)'),
('regex',r'^regex'),
]
for label in sys.argv[1:]:
    f=sorted(glob.glob(f'{os.environ.get("MEASURE_DIR", "/tmp/m")}/{label}/target/cargo-timings/cargo-timing-*.html'))[-1]
    units=json.loads(re.search(r'const UNIT_DATA = (\[.*?\]);\n',open(f).read(),re.S).group(1))
    by=collections.Counter(); total=0
    for u in units:
        total+=u['duration']
        name=u['name']+(' '+u['version'] if 'darling' in u['name'] else '')
        for g,rx in groups:
            if re.search(rx,u['name'] if 'cynic' not in g else name): by[g]+=u['duration']; break
        else: by['the rest']+=u['duration']
    print(label, f'{total:.0f}')
    for g,_ in groups+[('the rest','')]: print(f'  {g}: {by[g]:.0f}')
