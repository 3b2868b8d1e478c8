//! Page-level changes to a whole PDF (not incremental updates): appending the pages of one
//! file to another, counting pages.

use super::error::PkiError;
use lopdf::{Document as Pdf, Object};

/// `first` with the pages of `second` appended, saved as a new file (QI Tech's evidence
/// page, IdentiaSign's blank signature page).
pub fn append_pages(first: &[u8], second: &[u8]) -> Result<Vec<u8>, PkiError> {
    append(first, second).map_err(PkiError::InvalidPdf)
}

/// How many pages `pdf` has.
pub fn page_count(pdf: &[u8]) -> Result<usize, PkiError> {
    Pdf::load_mem(pdf)
        .map(|doc| doc.get_pages().len())
        .map_err(|e| PkiError::InvalidPdf(e.to_string()))
}

fn append(first: &[u8], second: &[u8]) -> Result<Vec<u8>, String> {
    let mut base = Pdf::load_mem(first).map_err(|e| format!("document: {e}"))?;
    let mut extra = Pdf::load_mem(second).map_err(|e| format!("appended pages: {e}"))?;
    let first_free = base
        .max_id
        .checked_add(1)
        .ok_or("document has no free object numbers")?;
    extra.renumber_objects_with(first_free);
    let pages_id = base
        .catalog()
        .and_then(|catalog| catalog.get(b"Pages"))
        .and_then(Object::as_reference)
        .map_err(|e| format!("document has no page tree: {e}"))?;
    let added: Vec<_> = extra.get_pages().into_values().collect();
    // Drop the extra file's own catalog and page tree; its pages join ours.
    let extra_root = extra
        .trailer
        .get(b"Root")
        .and_then(Object::as_reference)
        .ok();
    let extra_pages = extra
        .catalog()
        .and_then(|catalog| catalog.get(b"Pages"))
        .and_then(Object::as_reference)
        .ok();
    for (id, object) in std::mem::take(&mut extra.objects) {
        if Some(id) == extra_root || Some(id) == extra_pages {
            continue;
        }
        base.objects.insert(id, object);
    }
    for page in &added {
        if let Ok(Object::Dictionary(dict)) = base.get_object_mut(*page) {
            dict.set("Parent", Object::Reference(pages_id));
        }
    }
    // Kids and Count may be indirect objects: resolve them before the tree is borrowed.
    let tree = base
        .get_object(pages_id)
        .and_then(Object::as_dict)
        .map_err(|e| format!("document page tree: {e}"))?;
    let resolve = |key: &[u8]| {
        tree.get(key)
            .ok()
            .and_then(|o| base.dereference(o).ok())
            .map(|(_, o)| o.clone())
    };
    let mut kids = resolve(b"Kids")
        .and_then(|o| o.as_array().ok().cloned())
        .ok_or("document page tree has no /Kids array")?;
    let count = resolve(b"Count")
        .and_then(|o| o.as_i64().ok())
        .unwrap_or(kids.len() as i64);
    kids.extend(added.iter().map(|id| Object::Reference(*id)));
    let tree = base
        .get_object_mut(pages_id)
        .and_then(Object::as_dict_mut)
        .map_err(|e| format!("document page tree: {e}"))?;
    tree.set("Kids", Object::Array(kids));
    // /Count comes from the client's file: never trust it to add without overflowing.
    let count = i64::try_from(added.len())
        .ok()
        .and_then(|added| count.checked_add(added))
        .filter(|total| *total > 0)
        .ok_or("document page tree has an impossible /Count")?;
    tree.set("Count", Object::Integer(count));
    base.max_id = extra.max_id.max(base.max_id);
    let mut out = Vec::new();
    base.save_to(&mut out).map_err(|e| e.to_string())?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::pdfgen::text_pdf;

    #[test]
    fn merged_file_has_both_pages() {
        let a = text_pdf("A", &[("x".into(), "1".into())]);
        let b = text_pdf("B", &[("y".into(), "2".into())]);
        let merged = append_pages(&a, &b).unwrap();
        let pdf = Pdf::load_mem(&merged).unwrap();
        assert_eq!(pdf.get_pages().len(), 2);
    }

    #[test]
    fn indirect_kids_keep_their_pages() {
        let long: Vec<(String, String)> = (0..120)
            .map(|i| (format!("line {i}"), "text".to_owned()))
            .collect();
        let mut doc = Pdf::load_mem(&text_pdf("Long", &long)).unwrap();
        let pages = doc.get_pages().len();
        assert!(pages > 1);
        // Move /Kids into an object of its own, as some writers do.
        let root = doc
            .catalog()
            .unwrap()
            .get(b"Pages")
            .unwrap()
            .as_reference()
            .unwrap();
        let kids = doc
            .get_dictionary(root)
            .unwrap()
            .get(b"Kids")
            .unwrap()
            .clone();
        let kids_id = doc.add_object(kids);
        doc.get_dictionary_mut(root)
            .unwrap()
            .set("Kids", Object::Reference(kids_id));
        let mut bytes = Vec::new();
        doc.save_to(&mut bytes).unwrap();
        let merged = append_pages(&bytes, &text_pdf("B", &[])).unwrap();
        assert_eq!(Pdf::load_mem(&merged).unwrap().get_pages().len(), pages + 1);
    }
}
