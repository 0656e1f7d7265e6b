//! Crypto-shredding. The log is never rewritten, so personal data in it is kept sealed: each
//! personal field of an event is encrypted (AES-256-GCM) under a data key of its *scope* (for
//! CaseLedger, a case), and each data key is stored wrapped by the key-encryption key (KEK), which
//! comes from configuration and never reaches the database. Destroying a scope's keys erases its
//! sealed fields from every reading of the log, while the events and every other fact stay.
//!
//! A sealed field is stored as `{"$sealed": "<key id>.<base64(nonce || ciphertext || tag)>"}`.
//! The nonce is derived from the event id and the field name, so a retried append seals to the
//! same bytes and stays idempotent; each (key, event id, field) is sealed at most once, so no
//! nonce is ever used for two messages. The event id and field name are the associated data:
//! a sealed value moved to another event or field does not open.
//!
//! Readers that show events to people call [`Vault::open`]: each sealed field becomes its
//! plaintext, or [`ERASED`] once its key is destroyed. Readers that only fold events (the
//! projections) never need to open anything.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use serde_json::Value;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::{RecordedEvent, StoreError};

/// The key a sealed field's object is stored under.
pub const SEALED: &str = "$sealed";
/// What a sealed field reads as once its scope's keys are destroyed.
pub const ERASED: &str = "[erased]";

const KEY_LEN: usize = 32;
const TAG_LEN: usize = 16;
/// What the KEK check seals: proof that a KEK is the one this database met first.
const CHECK_PLAINTEXT: &[u8] = b"caseledger key-encryption key check v1";
/// The associated data of a wrapped data key, and of the KEK check.
const DATA_KEY: &[u8] = b"caseledger data key v1";
const CHECK: &[u8] = b"caseledger kek check v1";

/// Why a key-encryption key cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("the key-encryption key must be 32 random bytes, base64-encoded (or the path of a file holding them): {0}")]
    Malformed(String),
    #[error("cannot read the key-encryption key file {path}: {source}")]
    Unreadable {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the key-encryption key is not the one this database's personal data was sealed with: \
         without the right key that data cannot be read (restore the key, do not replace it)"
    )]
    Mismatch,
    #[error("the system's random number generator failed")]
    Random,
}

/// The key-encryption key: wraps and unwraps data keys. Cheap to clone; never printed.
#[derive(Clone)]
pub struct Kek(Arc<LessSafeKey>);

impl std::fmt::Debug for Kek {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Kek(..)")
    }
}

impl Kek {
    /// A KEK from its 32 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, KeyError> {
        if bytes.len() != KEY_LEN {
            return Err(KeyError::Malformed(format!("{} bytes, not {KEY_LEN}", bytes.len())));
        }
        let key = UnboundKey::new(&AES_256_GCM, bytes).map_err(|_| KeyError::Malformed("rejected".into()))?;
        Ok(Self(Arc::new(LessSafeKey::new(key))))
    }

    /// A KEK from its base64 text.
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        let bytes = STANDARD
            .decode(text.trim())
            .map_err(|e| KeyError::Malformed(format!("not base64: {e}")))?;
        Self::from_bytes(&bytes)
    }

    /// A KEK from configuration: the path of a file holding the base64 text, or the text itself.
    pub fn load(value: &str) -> Result<Self, KeyError> {
        let path = Path::new(value.trim());
        if path.is_file() {
            let text = std::fs::read_to_string(path).map_err(|source| KeyError::Unreadable {
                path: path.display().to_string(),
                source,
            })?;
            return Self::parse(&text);
        }
        // Base64 text may start with '/': a missing file is only named when the text is no key.
        Self::parse(value).map_err(|error| match value.trim() {
            named if named.starts_with('/') || named.starts_with('.') => KeyError::Unreadable {
                path: named.to_string(),
                source: std::io::Error::from(std::io::ErrorKind::NotFound),
            },
            _ => error,
        })
    }

    /// A new random KEK and its base64 text (for the demo and tests).
    pub fn generate() -> Result<(Self, String), KeyError> {
        let mut bytes = [0u8; KEY_LEN];
        SystemRandom::new().fill(&mut bytes).map_err(|_| KeyError::Random)?;
        Ok((Self::from_bytes(&bytes)?, STANDARD.encode(bytes)))
    }

    /// `nonce || AES-256-GCM(plaintext) || tag` under a random nonce; `context` (what is
    /// wrapped) is the associated data, so one kind of wrapped value never opens as another.
    fn wrap(&self, context: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, KeyError> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new().fill(&mut nonce).map_err(|_| KeyError::Random)?;
        seal_with(&self.0, nonce, context, plaintext)
    }

    fn unwrap(&self, context: &[u8], wrapped: &[u8]) -> Result<Vec<u8>, KeyError> {
        open_with(&self.0, context, wrapped).ok_or(KeyError::Mismatch)
    }
}

fn seal_with(key: &LessSafeKey, nonce: [u8; NONCE_LEN], aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, KeyError> {
    let mut buffer = plaintext.to_vec();
    key.seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(aad), &mut buffer)
        .map_err(|_| KeyError::Random)?;
    let mut out = Vec::with_capacity(NONCE_LEN + buffer.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&buffer);
    Ok(out)
}

fn open_with(key: &LessSafeKey, aad: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
    if sealed.len() < NONCE_LEN + TAG_LEN {
        return None;
    }
    let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
    let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
    let mut buffer = ciphertext.to_vec();
    let plaintext = key.open_in_place(nonce, Aad::from(aad), &mut buffer).ok()?;
    Some(plaintext.to_vec())
}

/// A field's associated data: the event and the field it belongs to.
fn field_aad(event_id: Uuid, field: &str) -> Vec<u8> {
    let mut aad = event_id.as_bytes().to_vec();
    aad.extend_from_slice(field.as_bytes());
    aad
}

/// The nonce of one field of one event: unique per (event id, field), the same on a retry.
fn field_nonce(event_id: Uuid, field: &str) -> [u8; NONCE_LEN] {
    let mut context = ring::digest::Context::new(&ring::digest::SHA256);
    context.update(b"caseledger-field-nonce");
    context.update(event_id.as_bytes());
    context.update(field.as_bytes());
    let digest = context.finish();
    let mut nonce = [0u8; NONCE_LEN];
    nonce.copy_from_slice(&digest.as_ref()[..NONCE_LEN]);
    nonce
}

/// Which fields of an event type are personal (declared by the application, beside its lens).
pub type PersonalFields = fn(&str) -> &'static [&'static str];

/// Seals and opens personal fields, and destroys scopes' keys. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Vault {
    kek: Kek,
    personal: PersonalFields,
}

/// A scope's live data key, unwrapped; never printed.
pub struct DataKey {
    id: Uuid,
    key: LessSafeKey,
}

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataKey").field("id", &self.id).finish_non_exhaustive()
    }
}

fn data_key(bytes: &[u8]) -> Result<LessSafeKey, StoreError> {
    UnboundKey::new(&AES_256_GCM, bytes)
        .map(LessSafeKey::new)
        .map_err(|_| StoreError::Malformed("a data key has the wrong length".into()))
}

fn sealing(error: KeyError) -> StoreError {
    StoreError::Sealing(error.to_string())
}

impl Vault {
    pub fn new(kek: Kek, personal: PersonalFields) -> Self {
        Self { kek, personal }
    }

    /// The personal fields of `event_type`.
    pub fn personal_fields(&self, event_type: &str) -> &'static [&'static str] {
        (self.personal)(event_type)
    }

    /// Makes sure the KEK is the one this database met first (recording it on first use): a
    /// wrong key is refused here, at startup, not on the first read. Whether this was the first
    /// use (then personal data written before may still be in plaintext: see
    /// [`Vault::seal_existing`]).
    pub async fn check(&self, pool: &PgPool) -> Result<bool, StoreError> {
        // Data keys without a check (a check row deleted by hand): the KEK must open them.
        if let Some(wrapped) = sqlx::query_scalar!(
            "select wrapped from data_keys where wrapped is not null and not exists (select 1 from kek_check) limit 1"
        )
        .fetch_optional(pool)
        .await?
        .flatten()
        {
            self.kek.unwrap(DATA_KEY, &wrapped).map_err(sealing)?;
        }
        let sealed = self.kek.wrap(CHECK, CHECK_PLAINTEXT).map_err(sealing)?;
        let first = sqlx::query!(
            "insert into kek_check (id, sealed) values (true, $1) on conflict (id) do nothing",
            sealed
        )
        .execute(pool)
        .await?
        .rows_affected()
            == 1;
        let stored = sqlx::query_scalar!("select sealed from kek_check where id")
            .fetch_one(pool)
            .await?;
        match self.kek.unwrap(CHECK, &stored) {
            Ok(plaintext) if plaintext == CHECK_PLAINTEXT => Ok(first),
            _ => Err(sealing(KeyError::Mismatch)),
        }
    }

    /// Seals the personal fields of events written in plaintext before this database met a KEK
    /// (an earlier version, or a store without a vault), under the data key of the scope
    /// `scope_of` gives their stream and data (none: left as they are). The one time the log's data is
    /// rewritten: without it that data could never be erased. How many events were sealed.
    pub async fn seal_existing(
        &self,
        pool: &PgPool,
        event_types: &[String],
        scope_of: impl Fn(&str, &Value) -> Option<String>,
    ) -> Result<u64, StoreError> {
        let rows = sqlx::query!(
            r#"select event_id, stream_id, event_type, data::text as "data!" from events
               where event_type = any($1) order by tx_id, position"#,
            event_types
        )
        .fetch_all(pool)
        .await?;
        let mut keys: HashMap<String, DataKey> = HashMap::new();
        let mut sealed = 0;
        for row in rows {
            let mut data: Value = serde_json::from_str(&row.data).map_err(|e| StoreError::Malformed(e.to_string()))?;
            let Some(scope) = scope_of(&row.stream_id, &data) else {
                continue;
            };
            if !self.needs_sealing(&row.event_type, &data) {
                continue;
            }
            if !keys.contains_key(&scope) {
                let key = self.data_key(pool, &scope).await?;
                keys.insert(scope.clone(), key);
            }
            let Some(key) = keys.get(&scope) else { continue };
            self.seal(key, &row.event_type, row.event_id, &mut data)?;
            sqlx::query!("update events set data = $1 where event_id = $2", data, row.event_id)
                .execute(pool)
                .await?;
            sealed += 1;
        }
        Ok(sealed)
    }

    /// The fields of `data` (an event of `event_type`) that are personal and not yet sealed.
    fn unsealed(&self, event_type: &str, data: &Value) -> Vec<&'static str> {
        let Value::Object(map) = data else {
            return Vec::new();
        };
        self.personal_fields(event_type)
            .iter()
            .copied()
            .filter(|field| {
                map.get(*field)
                    .is_some_and(|value| !value.is_null() && !is_sealed(value))
            })
            .collect()
    }

    /// Whether `data` (an event of `event_type`) has a personal field to seal.
    pub fn needs_sealing(&self, event_type: &str, data: &Value) -> bool {
        !self.unsealed(event_type, data).is_empty()
    }

    /// `scope`'s live data key, made (and wrapped) if it has none. Outside the appending
    /// transaction (an append must be its transaction's first write): the appender then calls
    /// [`Vault::hold`] after appending, which fails if the key was destroyed meanwhile.
    pub async fn data_key(&self, pool: &PgPool, scope: &str) -> Result<DataKey, StoreError> {
        // Most writes are to a scope that has its key: read it, and write nothing.
        let live = sqlx::query!(
            r#"select key_id, wrapped as "wrapped!" from data_keys where scope = $1 and wrapped is not null"#,
            scope
        )
        .fetch_optional(pool)
        .await?;
        if let Some(row) = live {
            return self.opened(row.key_id, &row.wrapped);
        }
        let mut fresh = [0u8; KEY_LEN];
        SystemRandom::new()
            .fill(&mut fresh)
            .map_err(|_| sealing(KeyError::Random))?;
        let wrapped = self.kek.wrap(DATA_KEY, &fresh).map_err(sealing)?;
        // One round trip: the key made now, or the live one made before.
        let made = sqlx::query!(
            r#"with made as (
                 insert into data_keys (key_id, scope, wrapped) values ($1, $2, $3)
                 on conflict (scope) where wrapped is not null do nothing
                 returning key_id, wrapped)
               select key_id as "key_id!", wrapped as "wrapped!" from made
               union all
               select key_id, wrapped from data_keys where scope = $2 and wrapped is not null
               limit 1"#,
            Uuid::now_v7(),
            scope,
            wrapped
        )
        .fetch_optional(pool)
        .await?;
        let row = match made {
            Some(row) => (row.key_id, row.wrapped),
            // Made by another writer after this statement began: visible now.
            None => {
                let row = sqlx::query!(
                    r#"select key_id, wrapped as "wrapped!" from data_keys where scope = $1 and wrapped is not null"#,
                    scope
                )
                .fetch_one(pool)
                .await?;
                (row.key_id, row.wrapped)
            }
        };
        self.opened(row.0, &row.1)
    }

    /// Data key `id`, unwrapped from its stored form.
    fn opened(&self, id: Uuid, wrapped: &[u8]) -> Result<DataKey, StoreError> {
        let bytes = self.kek.unwrap(DATA_KEY, wrapped).map_err(sealing)?;
        Ok(DataKey {
            id,
            key: data_key(&bytes)?,
        })
    }

    /// Seals the personal fields of `data` (an event of `event_type` with id `event_id`) under
    /// `key`.
    pub fn seal(&self, key: &DataKey, event_type: &str, event_id: Uuid, data: &mut Value) -> Result<(), StoreError> {
        let fields = self.unsealed(event_type, data);
        let Value::Object(map) = data else {
            return Ok(());
        };
        for field in fields {
            let Some(value) = map.get_mut(field) else { continue };
            let plaintext = serde_json::to_vec(value).map_err(|e| StoreError::Malformed(e.to_string()))?;
            let sealed = seal_with(
                &key.key,
                field_nonce(event_id, field),
                &field_aad(event_id, field),
                &plaintext,
            )
            .map_err(sealing)?;
            *value = serde_json::json!({ SEALED: format!("{}.{}", key.id, URL_SAFE_NO_PAD.encode(sealed)) });
        }
        Ok(())
    }

    /// Holds `key` until the appending transaction ends, so that an erasure waits for it (and then
    /// destroys what it sealed too). Fails if the key was destroyed since [`Vault::data_key`]: the
    /// caller rolls back rather than store data nobody can read.
    pub async fn hold(conn: &mut PgConnection, key: &DataKey) -> Result<(), StoreError> {
        let live = sqlx::query_scalar!(
            "select key_id from data_keys where key_id = $1 and wrapped is not null for share",
            key.id
        )
        .fetch_optional(&mut *conn)
        .await?;
        match live {
            Some(_) => Ok(()),
            None => Err(StoreError::Sealing(
                "the case's personal data was erased while this was being written: nothing was recorded, try again"
                    .into(),
            )),
        }
    }

    /// Opens every sealed field of `events` in place: its plaintext, or [`ERASED`] where its key
    /// has been destroyed. Events without sealed fields are left as they are.
    pub async fn open(&self, pool: &PgPool, events: &mut [RecordedEvent]) -> Result<(), StoreError> {
        let mut parsed: Vec<(usize, serde_json::Map<String, Value>)> = Vec::new();
        for (index, event) in events.iter().enumerate() {
            if let Some(Value::Object(map)) = sealed_data(event) {
                parsed.push((index, map));
            }
        }
        let keys = self
            .keys_for(pool, parsed.iter().flat_map(|(_, map)| map.values()))
            .await?;
        for (index, mut map) in parsed {
            let Some(event) = events.get_mut(index) else { continue };
            for (field, value) in map.iter_mut() {
                open_one(&keys, event.event_id, field, value)?;
            }
            event.data = serde_json::value::to_raw_value(&Value::Object(map))
                .map_err(|e| StoreError::Malformed(e.to_string()))?;
        }
        Ok(())
    }

    /// Opens sealed values kept apart from their events (a read model's copy): each is the value
    /// of `field` of event `event_id`, opened in place like [`Vault::open`]'s.
    pub async fn open_values(&self, pool: &PgPool, values: &mut [(Uuid, &str, &mut Value)]) -> Result<(), StoreError> {
        let keys = self.keys_for(pool, values.iter().map(|(_, _, value)| &**value)).await?;
        for (event_id, field, value) in values.iter_mut() {
            open_one(&keys, *event_id, field, value)?;
        }
        Ok(())
    }

    /// The live data keys that sealed any of `values`, unwrapped, by key id (a destroyed key is
    /// absent).
    async fn keys_for<'a>(
        &self,
        pool: &PgPool,
        values: impl Iterator<Item = &'a Value>,
    ) -> Result<HashMap<Uuid, LessSafeKey>, StoreError> {
        let ids: Vec<Uuid> = values
            .filter_map(sealed_parts)
            .map(|(key_id, _)| key_id)
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let rows = sqlx::query!(
            "select key_id, wrapped from data_keys where key_id = any($1) and wrapped is not null",
            &ids
        )
        .fetch_all(pool)
        .await?;
        let mut keys = HashMap::with_capacity(rows.len());
        for row in rows {
            if let Some(wrapped) = row.wrapped {
                let bytes = self.kek.unwrap(DATA_KEY, &wrapped).map_err(sealing)?;
                keys.insert(row.key_id, data_key(&bytes)?);
            }
        }
        Ok(keys)
    }

    /// Destroys `scope`'s live data keys: whatever they sealed can never be opened again. How
    /// many keys were destroyed (0 when the scope had none left). Needs no KEK.
    pub async fn shred(conn: &mut PgConnection, scope: &str) -> Result<u64, StoreError> {
        let destroyed = sqlx::query!(
            "update data_keys set wrapped = null, erased_at = now() where scope = $1 and wrapped is not null",
            scope
        )
        .execute(&mut *conn)
        .await?;
        Ok(destroyed.rows_affected())
    }
}

/// Opens `value` (field `field` of event `event_id`) in place if it is sealed: its plaintext, or
/// [`ERASED`] when its key is not among `keys` (destroyed).
fn open_one(
    keys: &HashMap<Uuid, LessSafeKey>,
    event_id: Uuid,
    field: &str,
    value: &mut Value,
) -> Result<(), StoreError> {
    let Some((key_id, sealed)) = sealed_parts(value) else {
        return Ok(());
    };
    *value = match keys.get(&key_id) {
        None => Value::String(ERASED.to_string()),
        Some(key) => URL_SAFE_NO_PAD
            .decode(sealed)
            .ok()
            .and_then(|bytes| open_with(key, &field_aad(event_id, field), &bytes))
            .and_then(|plaintext| serde_json::from_slice(&plaintext).ok())
            .ok_or_else(|| {
                StoreError::Malformed(format!(
                    "event {event_id}: sealed field {field} does not open under its key"
                ))
            })?,
    };
    Ok(())
}

/// The event's data as JSON when it holds a sealed field (a cheap text test first).
fn sealed_data(event: &RecordedEvent) -> Option<Value> {
    let text = event.data.get();
    if !text.contains(SEALED) {
        return None;
    }
    serde_json::from_str(text).ok()
}

/// Whether `value` is a sealed field.
pub fn is_sealed(value: &Value) -> bool {
    sealed_parts(value).is_some()
}

/// A sealed field's key id and sealed bytes (base64).
fn sealed_parts(value: &Value) -> Option<(Uuid, &str)> {
    let Value::Object(map) = value else { return None };
    if map.len() != 1 {
        return None;
    }
    let (key_id, sealed) = map.get(SEALED)?.as_str()?.split_once('.')?;
    Some((key_id.parse().ok()?, sealed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kek_unwraps_only_what_it_wrapped() {
        let (kek, text) = Kek::generate().expect("kek");
        let wrapped = kek.wrap(DATA_KEY, b"a data key").expect("wrap");
        assert_eq!(kek.unwrap(DATA_KEY, &wrapped).expect("unwrap"), b"a data key");
        assert_eq!(
            Kek::parse(&text)
                .expect("parse")
                .unwrap(DATA_KEY, &wrapped)
                .expect("same"),
            b"a data key"
        );
        assert!(
            matches!(kek.unwrap(CHECK, &wrapped), Err(KeyError::Mismatch)),
            "another context"
        );
        let (other, _) = Kek::generate().expect("kek");
        assert!(matches!(other.unwrap(DATA_KEY, &wrapped), Err(KeyError::Mismatch)));
        assert!(matches!(Kek::parse("c2hvcnQ="), Err(KeyError::Malformed(_))));
        assert!(matches!(Kek::parse("not base64!"), Err(KeyError::Malformed(_))));
    }

    #[test]
    fn a_sealed_field_opens_only_in_its_own_event_and_field() {
        let (kek, _) = Kek::generate().expect("kek");
        let event = Uuid::now_v7();
        let sealed = seal_with(&kek.0, field_nonce(event, "text"), &field_aad(event, "text"), b"\"hi\"").expect("seal");
        assert_eq!(
            open_with(&kek.0, &field_aad(event, "text"), &sealed).as_deref(),
            Some(&b"\"hi\""[..])
        );
        assert!(open_with(&kek.0, &field_aad(event, "summary"), &sealed).is_none());
        assert!(open_with(&kek.0, &field_aad(Uuid::now_v7(), "text"), &sealed).is_none());
        // The same event and field seal to the same bytes: a retried append stays idempotent.
        let again = seal_with(&kek.0, field_nonce(event, "text"), &field_aad(event, "text"), b"\"hi\"").expect("seal");
        assert_eq!(sealed, again);
    }
}
