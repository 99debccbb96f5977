//! Access-key generation for `lamina keys create`: an id that looks like AWS's (`LKIA` + 16 base32
//! characters) and a 40-character secret, both from the operating system's CSPRNG.

use rand::rngs::OsRng;
use rand::Rng;

/// Prefix of every Lamina access key id (AWS's long-term keys start `AKIA`).
pub const ACCESS_KEY_PREFIX: &str = "LKIA";
/// Length of an access key id.
pub const ACCESS_KEY_ID_LEN: usize = 20;
/// Length of a secret access key.
pub const SECRET_KEY_LEN: usize = 40;

const ID_ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const SECRET_ALPHABET: &[u8; 64] =
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn random_string(rng: &mut impl Rng, alphabet: &[u8], len: usize) -> String {
    (0..len)
        .map(|_| char::from(alphabet[rng.gen_range(0..alphabet.len())]))
        .collect()
}

/// A new `(access_key_id, secret_access_key)` pair: the id is `LKIA` followed by 16 characters of
/// `A-Z2-7` (80 random bits), the secret 40 characters of `A-Za-z0-9+/` (240 random bits).
pub fn generate_access_key() -> (String, String) {
    let mut rng = OsRng;
    let mut id = String::with_capacity(ACCESS_KEY_ID_LEN);
    id.push_str(ACCESS_KEY_PREFIX);
    id.push_str(&random_string(
        &mut rng,
        ID_ALPHABET,
        ACCESS_KEY_ID_LEN - ACCESS_KEY_PREFIX.len(),
    ));
    let secret = random_string(&mut rng, SECRET_ALPHABET, SECRET_KEY_LEN);
    (id, secret)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn keys_have_the_documented_shape() {
        let (id, secret) = generate_access_key();
        assert_eq!(id.len(), 20);
        assert!(id.starts_with("LKIA"));
        assert!(id
            .bytes()
            .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b)));
        assert_eq!(secret.len(), 40);
        assert!(secret.bytes().all(|b| SECRET_ALPHABET.contains(&b)));
    }

    #[test]
    fn keys_do_not_repeat() {
        let ids: HashSet<_> = (0..200).map(|_| generate_access_key()).collect();
        assert_eq!(ids.len(), 200);
    }
}
