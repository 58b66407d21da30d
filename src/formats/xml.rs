//! A small XML reader for the label files other tools write (Pascal VOC,
//! CVAT for images, Label Studio configs): elements, attributes, text,
//! comments, CDATA, the five predefined entities and character references.
//! Document type declarations are refused (no entity expansion, so no
//! "billion laughs"), as are nesting deeper than [`MAX_DEPTH`] and more
//! than [`MAX_NODES`] elements. Errors name the line and byte offset.
//! Namespaces are not resolved: `a:b` is an element called `a:b`.

use std::fmt;

/// Deepest nesting accepted; the formats read need six levels.
pub const MAX_DEPTH: usize = 64;

/// Most elements in one document.
pub const MAX_NODES: usize = 5_000_000;

/// One element: its name, attributes in order, child elements, and its
/// text (the character data directly inside it, concatenated).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Element {
    pub name: String,
    pub attributes: Vec<(String, String)>,
    pub children: Vec<Element>,
    pub text: String,
    /// Byte offset of its `<` in the document (for messages; see
    /// [`line_of`]).
    pub offset: usize,
}

impl Element {
    /// The value of attribute `name`.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first child element called `name`.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// Every child element called `name`.
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// The trimmed text of the first child called `name`.
    pub fn child_text(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.trim())
    }

    /// The element at `path` below this one (`["meta", "task", "labels"]`).
    pub fn path(&self, path: &[&str]) -> Option<&Element> {
        path.iter().try_fold(self, |e, name| e.child(name))
    }
}

/// Why a document is not XML this reader takes.
#[derive(Clone, Debug, PartialEq)]
pub struct XmlError {
    pub message: String,
    pub line: usize,
    pub offset: usize,
}

impl fmt::Display for XmlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (line {}, byte {})",
            self.message, self.line, self.offset
        )
    }
}

struct Reader<'a> {
    s: &'a str,
    pos: usize,
    nodes: usize,
}

impl<'a> Reader<'a> {
    fn line_at(&self, offset: usize) -> usize {
        line_of(self.s.as_bytes(), offset)
    }

    fn err<T>(&self, message: impl Into<String>) -> Result<T, XmlError> {
        self.err_at(self.pos, message)
    }

    fn err_at<T>(&self, offset: usize, message: impl Into<String>) -> Result<T, XmlError> {
        Err(XmlError {
            message: message.into(),
            line: self.line_at(offset),
            offset,
        })
    }

    fn rest(&self) -> &'a str {
        &self.s[self.pos..]
    }

    fn skip_ws(&mut self) {
        let rest = self.rest();
        self.pos += rest.len() - rest.trim_start().len();
    }

    /// Skips to just after `end`, or fails naming `what`.
    fn skip_past(&mut self, end: &str, what: &str) -> Result<&'a str, XmlError> {
        match self.rest().find(end) {
            Some(i) => {
                let inner = &self.rest()[..i];
                self.pos += i + end.len();
                Ok(inner)
            }
            None => self.err(format!("{what} is not closed")),
        }
    }

    /// Comments, processing instructions and white space between markup.
    fn skip_misc(&mut self) -> Result<(), XmlError> {
        loop {
            self.skip_ws();
            if self.rest().starts_with("<!--") {
                self.skip_past("-->", "a comment")?;
            } else if self.rest().starts_with("<?") {
                self.skip_past("?>", "a processing instruction")?;
            } else if self.rest().starts_with("<!DOCTYPE") {
                return self
                    .err("document type declarations are not accepted (they can define entities)");
            } else {
                return Ok(());
            }
        }
    }

    fn name(&mut self) -> Result<&'a str, XmlError> {
        let rest = self.rest();
        let len = rest
            .find(|c: char| c.is_whitespace() || matches!(c, '/' | '>' | '=' | '<'))
            .unwrap_or(rest.len());
        if len == 0 {
            return self.err("expected a name");
        }
        self.pos += len;
        Ok(&rest[..len])
    }

    fn element(&mut self, depth: usize) -> Result<Element, XmlError> {
        if depth > MAX_DEPTH {
            return self.err(format!("elements nested more than {MAX_DEPTH} deep"));
        }
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return self.err(format!("more than {MAX_NODES} elements"));
        }
        let start = self.pos;
        if !self.rest().starts_with('<') {
            return self.err("expected an element");
        }
        self.pos += 1;
        let mut el = Element {
            name: self.name()?.to_string(),
            offset: start,
            ..Element::default()
        };
        // Attributes.
        loop {
            self.skip_ws();
            let rest = self.rest();
            if rest.starts_with("/>") {
                self.pos += 2;
                return Ok(el);
            }
            if rest.starts_with('>') {
                self.pos += 1;
                break;
            }
            if rest.is_empty() {
                return self.err(format!("the start tag of <{}> is not closed", el.name));
            }
            let key = self.name()?.to_string();
            self.skip_ws();
            if !self.rest().starts_with('=') {
                return self.err(format!("attribute '{key}' has no value"));
            }
            self.pos += 1;
            self.skip_ws();
            let quote = match self.rest().chars().next() {
                Some(q @ ('"' | '\'')) => q,
                _ => return self.err(format!("the value of '{key}' is not quoted")),
            };
            self.pos += 1;
            let at = self.pos;
            let Some(len) = self.rest().find(quote) else {
                return self.err(format!("the value of '{key}' is not closed"));
            };
            let raw = &self.rest()[..len];
            if raw.contains('<') {
                return self.err(format!("'<' in the value of '{key}'"));
            }
            self.pos += len + 1;
            if el.attributes.iter().any(|(k, _)| *k == key) {
                return self.err_at(at, format!("attribute '{key}' given twice"));
            }
            el.attributes.push((key, self.unescape(raw, at)?));
        }
        // Content.
        loop {
            let rest = self.rest();
            let text_len = rest.find('<').unwrap_or(rest.len());
            if text_len > 0 {
                let at = self.pos;
                el.text.push_str(&self.unescape(&rest[..text_len], at)?);
                self.pos += text_len;
            }
            let rest = self.rest();
            if rest.is_empty() {
                return self.err_at(start, format!("<{}> is not closed", el.name));
            } else if rest.starts_with("</") {
                self.pos += 2;
                let end = self.name()?;
                if end != el.name {
                    return self.err(format!("</{end}> closes <{}>", el.name));
                }
                self.skip_ws();
                if !self.rest().starts_with('>') {
                    return self.err(format!("</{end} is not closed with '>'"));
                }
                self.pos += 1;
                return Ok(el);
            } else if rest.starts_with("<!--") {
                self.skip_past("-->", "a comment")?;
            } else if rest.starts_with("<![CDATA[") {
                self.pos += "<![CDATA[".len();
                let inner = self.skip_past("]]>", "a CDATA section")?;
                el.text.push_str(inner);
            } else if rest.starts_with("<?") {
                self.skip_past("?>", "a processing instruction")?;
            } else if rest.starts_with("<!") {
                return self.err("unexpected '<!'");
            } else {
                let child = self.element(depth + 1)?;
                el.children.push(child);
            }
        }
    }

    /// Text with entity and character references replaced.
    fn unescape(&self, raw: &str, at: usize) -> Result<String, XmlError> {
        if !raw.contains('&') {
            return Ok(raw.to_string());
        }
        let mut out = String::with_capacity(raw.len());
        let mut rest = raw;
        while let Some(i) = rest.find('&') {
            out.push_str(&rest[..i]);
            let here = at + (raw.len() - rest.len()) + i;
            let after = &rest[i + 1..];
            let Some(end) = after.find(';').filter(|e| *e <= 10) else {
                return self.err_at(here, "'&' that does not start a reference");
            };
            let name = &after[..end];
            let c = match name {
                "lt" => Some('<'),
                "gt" => Some('>'),
                "amp" => Some('&'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                _ => {
                    let code = if let Some(hex) = name.strip_prefix("#x") {
                        u32::from_str_radix(hex, 16).ok()
                    } else if let Some(dec) = name.strip_prefix('#') {
                        dec.parse().ok()
                    } else {
                        None
                    };
                    code.and_then(char::from_u32)
                }
            };
            let Some(c) = c else {
                return self.err_at(here, format!("unknown reference '&{name};'"));
            };
            out.push(c);
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }
}

/// The 1-based line of byte `offset` (computed only for messages: one
/// pass over the document).
pub fn line_of(input: &[u8], offset: usize) -> usize {
    input[..offset.min(input.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

/// Lines of a document for messages: the offsets of its line breaks,
/// found once, so that naming the line of many records stays linear.
pub struct Lines(Vec<usize>);

impl Lines {
    pub fn new(input: &[u8]) -> Self {
        Lines(
            input
                .iter()
                .enumerate()
                .filter(|(_, b)| **b == b'\n')
                .map(|(i, _)| i)
                .collect(),
        )
    }

    /// The 1-based line of byte `offset`.
    pub fn line(&self, offset: usize) -> usize {
        self.0.partition_point(|nl| *nl < offset) + 1
    }
}

/// Parses a whole document into its root element.
pub fn parse(input: &[u8]) -> Result<Element, XmlError> {
    let s = std::str::from_utf8(input).map_err(|e| XmlError {
        message: "not UTF-8 text".into(),
        line: line_of(input, e.valid_up_to()),
        offset: e.valid_up_to(),
    })?;
    let mut r = Reader {
        s,
        // After a byte-order mark; offsets stay those of the input.
        pos: if s.starts_with('\u{feff}') { 3 } else { 0 },
        nodes: 0,
    };
    r.skip_misc()?;
    if r.rest().is_empty() {
        return r.err("no root element");
    }
    let root = r.element(0)?;
    r.skip_misc()?;
    if !r.rest().is_empty() {
        return r.err("content after the root element");
    }
    Ok(root)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_elements_attributes_text_and_references() {
        let doc = "\u{feff}<?xml version=\"1.0\"?>\n<!-- c -->\n<a x='1' y=\"&lt;&#65;&#x42;\">\n  <b>t &amp; u<![CDATA[<raw>]]></b><c/>\n</a>\n";
        let a = parse(doc.as_bytes()).unwrap();
        assert_eq!(a.name, "a");
        assert_eq!(a.attr("y"), Some("<AB"));
        assert_eq!(a.child_text("b"), Some("t & u<raw>"));
        assert_eq!(a.children.len(), 2);
        assert_eq!(line_of(doc.as_bytes(), a.children[0].offset), 4);
        assert_eq!(Lines::new(doc.as_bytes()).line(a.children[0].offset), 4);
    }

    #[test]
    fn refuses_doctypes_bad_nesting_and_unknown_entities_with_a_position() {
        let e = parse(b"<!DOCTYPE x [<!ENTITY a \"b\">]><x/>").unwrap_err();
        assert!(e.message.contains("document type"), "{e}");
        let e = parse(b"<a>\n<b></a>").unwrap_err();
        assert_eq!((e.line, e.message.as_str()), (2, "</a> closes <b>"));
        let e = parse(b"<a>&foo;</a>").unwrap_err();
        assert_eq!(e.offset, 3);
        assert!(parse(b"<a x=1/>").is_err());
        assert!(parse(b"<a></a><b/>").is_err());
        assert!(parse(b"").is_err());
        let deep = "<a>".repeat(MAX_DEPTH + 2);
        assert!(parse(deep.as_bytes()).unwrap_err().message.contains("deep"));
    }
}
