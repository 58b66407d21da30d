//! Finding the item a pre-label record refers to, in constant time: the
//! rules of [`super::match_item`] (hash, exact name, unique path suffix,
//! unique file name), answered from maps built once per import instead of a
//! scan of every item per record — 50,000 tasks against 50,000 items was
//! 2.5 billion comparisons.

use std::collections::HashMap;

use super::ItemInfo;

/// The project's items, indexed by what records use to name them.
pub struct ItemIndex<'a> {
    items: &'a [ItemInfo],
    by_sha: HashMap<&'a str, usize>,
    by_name: HashMap<&'a str, usize>,
    /// By the last path component (after `/` or `\`): every path-suffix
    /// match shares it, so it is where the suffix rule looks.
    by_tail: HashMap<&'a str, Vec<usize>>,
    /// By file name without its extension (`labels/a.txt` is for `a.jpg`).
    by_stem: HashMap<&'a str, Vec<usize>>,
    by_id: HashMap<i64, usize>,
}

/// The file name of `path` (after the last `/` or `\`) without its
/// extension; a name that starts with its only dot is all stem.
pub fn stem(path: &str) -> &str {
    let file = path.rsplit(['/', '\\']).next().unwrap_or(path);
    match file.rfind('.') {
        Some(dot) if dot > 0 => &file[..dot],
        _ => file,
    }
}

fn tail(s: &str) -> &str {
    s.rsplit(['/', '\\']).next().unwrap_or(s)
}

impl<'a> ItemIndex<'a> {
    pub fn new(items: &'a [ItemInfo]) -> ItemIndex<'a> {
        let mut by_sha = HashMap::with_capacity(items.len());
        let mut by_name = HashMap::with_capacity(items.len());
        let mut by_tail: HashMap<&str, Vec<usize>> = HashMap::with_capacity(items.len());
        let mut by_stem: HashMap<&str, Vec<usize>> = HashMap::with_capacity(items.len());
        let mut by_id = HashMap::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            by_stem.entry(stem(&item.name)).or_default().push(i);
            by_id.insert(item.id, i);
            // The first item wins, as in a scan.
            by_sha.entry(item.sha256.as_str()).or_insert(i);
            by_name.entry(item.name.as_str()).or_insert(i);
            by_tail.entry(tail(&item.name)).or_default().push(i);
        }
        ItemIndex {
            items,
            by_sha,
            by_name,
            by_tail,
            by_stem,
            by_id,
        }
    }

    /// The items whose file name without extension is `stem`.
    pub fn with_stem(&self, stem: &str) -> impl Iterator<Item = &'a ItemInfo> + '_ {
        let items = self.items;
        self.by_stem
            .get(stem)
            .into_iter()
            .flatten()
            .map(move |&i| &items[i])
    }

    /// The item with this id.
    pub fn by_id(&self, id: i64) -> Option<&'a ItemInfo> {
        self.by_id.get(&id).map(|&i| &self.items[i])
    }

    /// The items, in the order given.
    pub fn items(&self) -> &'a [ItemInfo] {
        self.items
    }

    /// The item `reference` names: by SHA-256, by exact name, by a path
    /// suffix only one item has, then by a file name only one item has.
    pub fn find(&self, reference: &str) -> Result<&'a ItemInfo, String> {
        let reference = reference.trim();
        if let Some(&i) = self.by_sha.get(reference) {
            return Ok(&self.items[i]);
        }
        if let Some(&i) = self.by_name.get(reference) {
            return Ok(&self.items[i]);
        }
        let clean = reference.trim_start_matches("./");
        let same_tail: &[usize] = self.by_tail.get(tail(clean)).map_or(&[], Vec::as_slice);
        let mut by_suffix = same_tail.iter().filter(|&&i| {
            let name = &self.items[i].name;
            ends_after_slash(name, clean) || ends_after_slash(clean, name)
        });
        if let (Some(&only), None) = (by_suffix.next(), by_suffix.next()) {
            return Ok(&self.items[only]);
        }
        match same_tail {
            [only] => Ok(&self.items[*only]),
            [] => Err(format!(
                "no item matches '{reference}' (by hash, name or path)"
            )),
            many => Err(format!(
                "'{reference}' matches {} items by file name; use a path or the SHA-256",
                many.len()
            )),
        }
    }
}

/// `whole` ends with `/` followed by `part`.
fn ends_after_slash(whole: &str, part: &str) -> bool {
    whole
        .strip_suffix(part)
        .is_some_and(|head| head.ends_with('/'))
}

#[cfg(test)]
mod tests {
    use super::super::match_item;
    use super::*;
    use crate::model::ItemKind;

    fn item(id: i64, name: &str, sha: &str) -> ItemInfo {
        ItemInfo {
            id,
            kind: ItemKind::Image,
            name: name.into(),
            sha256: sha.into(),
            width: Some(10),
            height: Some(10),
            duration_secs: None,
            char_len: None,
        }
    }

    /// The index answers exactly as the scan does, for every kind of
    /// reference: hash, name, suffix either way, file name, ambiguous, none.
    #[test]
    fn the_index_answers_as_the_scan_does() {
        let items = vec![
            item(1, "set1/images/a.jpg", "aa"),
            item(2, "set2/images/a.jpg", "bb"),
            item(3, "b.jpg", "cc"),
            item(4, "set1/c.png", "dd"),
            item(5, "deep/x/y/z.png", "ee"),
            item(6, "win\\path\\w.jpg", "ff"),
            item(7, "b.jpg", "gg"),
        ];
        let index = ItemIndex::new(&items);
        let references = [
            "aa",
            " bb ",
            "set1/images/a.jpg",
            "images/a.jpg",
            "a.jpg",
            "/data/upload/1/set1/images/a.jpg",
            "b.jpg",
            "./b.jpg",
            "c.png",
            "other/set1/c.png",
            "y/z.png",
            "/abs/deep/x/y/z.png",
            "w.jpg",
            "win\\path\\w.jpg",
            "nothing.jpg",
            "",
            "images/",
        ];
        for r in references {
            let scan = match_item(&items, r).map(|i| i.id);
            let fast = index.find(r).map(|i| i.id);
            assert_eq!(fast, scan, "reference {r:?}");
        }
        assert_eq!(
            index.find("/data/upload/1/set1/images/a.jpg").map(|i| i.id),
            Ok(1)
        );
        assert!(index.find("a.jpg").is_err_and(|e| e.contains("2 items")));
    }
}
