//! The grammar of Microsoft's attribute-mapping expressions: function calls, `[attributes]`,
//! `"strings"` with `\"` and `\\` escapes, integers (and `&H` hex), bare words (`True`,
//! `vbTextCompare`), `%Tokens%`, empty argument slots, and the comparison (`=`, `<>`, `>`,
//! `>=`, `<`, `<=`) and concatenation (`&`) operators of IIF conditions.

use std::fmt;

use super::func;

/// "The maximum supported length for a single attribute mapping expression is 10,000
/// characters." (functions-for-customizing-application-data, 2026-04-10)
pub const MAX_EXPRESSION_CHARS: usize = 10_000;

/// Deepest nesting of function calls gwb parses (keeps the parser and the evaluator off the
/// end of the stack for any input; Microsoft's own expressions nest six deep).
pub const MAX_DEPTH: usize = 64;

/// A parsed expression node and where it is in the source (byte offsets, end exclusive).
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: Kind,
    pub span: (usize, usize),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// `"text"` after unescaping.
    Str(String),
    /// An integer (`12`, `-10`, `&HF7`).
    Int(i64),
    /// A number with a fraction, kept as written (`42568.75`).
    Decimal(String),
    /// `[name]`.
    Attr(String),
    /// `%DomainFQDN%`.
    Token(String),
    /// A bare word: `True`, `False`, `vbTextCompare`, `UTF8`.
    Word(String),
    /// `Name(arg, , arg)`; an empty slot is `None`, which is not `""`.
    Call {
        name: &'static str,
        args: Vec<Option<Expr>>,
    },
    Cmp {
        op: CmpOp,
        left: Box<Expr>,
        right: Box<Expr>,
    },
    /// `a & b & c`.
    Concat(Vec<Expr>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

impl CmpOp {
    pub fn as_str(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "<>",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
        }
    }
}

/// A syntax error: the character position (1-based) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub at: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at character {}: {}", self.at, self.message)
    }
}

impl std::error::Error for ParseError {}

/// Parse one expression. Function names are matched without regard to case (Microsoft's own
/// GroupDN expression calls `Instr`, documented as `InStr`); attribute names keep their case.
pub fn parse(text: &str) -> Result<Expr, ParseError> {
    let chars = text.chars().count();
    if chars > MAX_EXPRESSION_CHARS {
        return Err(ParseError {
            at: MAX_EXPRESSION_CHARS + 1,
            message: format!(
                "the expression has {chars} characters; Microsoft's limit is {MAX_EXPRESSION_CHARS}"
            ),
        });
    }
    let mut p = Parser { src: text, pos: 0 };
    p.ws();
    if p.pos == text.len() {
        return Err(p.err("the expression is empty"));
    }
    let e = p.expr(0)?;
    p.ws();
    if p.pos != text.len() {
        return Err(p.err("unexpected text after the end of the expression"));
    }
    Ok(e)
}

struct Parser<'a> {
    src: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.src[self.pos..].chars().next()
    }
    fn peek2(&self) -> Option<char> {
        self.src[self.pos..].chars().nth(1)
    }
    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }
    fn ws(&mut self) {
        while let Some(c) = self.peek() {
            if c.is_whitespace() {
                self.pos += c.len_utf8();
            } else {
                break;
            }
        }
    }
    fn err(&self, message: impl Into<String>) -> ParseError {
        ParseError {
            at: self.src[..self.pos].chars().count() + 1,
            message: message.into(),
        }
    }

    fn expr(&mut self, depth: usize) -> Result<Expr, ParseError> {
        let start = self.pos;
        let left = self.concat(depth)?;
        self.ws();
        let op = match (self.peek(), self.peek2()) {
            (Some('<'), Some('>')) => Some((CmpOp::Ne, 2)),
            (Some('<'), Some('=')) => Some((CmpOp::Le, 2)),
            (Some('>'), Some('=')) => Some((CmpOp::Ge, 2)),
            (Some('<'), _) => Some((CmpOp::Lt, 1)),
            (Some('>'), _) => Some((CmpOp::Gt, 1)),
            (Some('='), _) => Some((CmpOp::Eq, 1)),
            _ => None,
        };
        let Some((op, len)) = op else {
            return Ok(left);
        };
        self.pos += len;
        let right = self.concat(depth)?;
        self.ws();
        if matches!(self.peek(), Some('<' | '>' | '=')) {
            return Err(self.err(
                "comparisons cannot be chained (IIF supports one comparison; nest IIFs instead)",
            ));
        }
        Ok(Expr {
            kind: Kind::Cmp {
                op,
                left: Box::new(left),
                right: Box::new(right),
            },
            span: (start, self.pos),
        })
    }

    fn concat(&mut self, depth: usize) -> Result<Expr, ParseError> {
        let start = self.pos;
        let first = self.primary(depth)?;
        let mut parts = vec![first];
        loop {
            self.ws();
            if self.peek() != Some('&') {
                break;
            }
            self.pos += 1;
            parts.push(self.primary(depth)?);
        }
        if parts.len() == 1 {
            return Ok(parts.remove(0));
        }
        Ok(Expr {
            kind: Kind::Concat(parts),
            span: (start, self.pos),
        })
    }

    fn primary(&mut self, depth: usize) -> Result<Expr, ParseError> {
        self.ws();
        let start = self.pos;
        let kind = match self.peek() {
            None => return Err(self.err("the expression ends where a value was expected")),
            Some('"') => Kind::Str(self.string()?),
            Some('[') => {
                self.pos += 1;
                let from = self.pos;
                while let Some(c) = self.peek() {
                    if c == ']' {
                        break;
                    }
                    self.pos += c.len_utf8();
                }
                if self.peek() != Some(']') {
                    self.pos = start;
                    return Err(self.err("an attribute name opened with [ is never closed"));
                }
                let name = self.src[from..self.pos].trim().to_string();
                self.pos += 1;
                if name.is_empty() {
                    self.pos = start;
                    return Err(self.err("an attribute name [ ] is empty"));
                }
                Kind::Attr(name)
            }
            Some('%') => {
                self.pos += 1;
                let from = self.pos;
                while let Some(c) = self.peek() {
                    if c.is_alphanumeric() || c == '_' {
                        self.pos += c.len_utf8();
                    } else {
                        break;
                    }
                }
                if self.peek() != Some('%') || self.pos == from {
                    self.pos = start;
                    return Err(self.err("a %token% is not closed with %"));
                }
                let name = self.src[from..self.pos].to_string();
                self.pos += 1;
                Kind::Token(name)
            }
            Some('&') if matches!(self.peek2(), Some('H' | 'h')) => {
                self.pos += 2;
                let from = self.pos;
                while matches!(self.peek(), Some(c) if c.is_ascii_hexdigit()) {
                    self.pos += 1;
                }
                let digits = &self.src[from..self.pos];
                if digits.is_empty() {
                    return Err(self.err("&H must be followed by hexadecimal digits"));
                }
                match i64::from_str_radix(digits, 16) {
                    Ok(n) => Kind::Int(n),
                    Err(_) => return Err(self.err(format!("&H{digits} is too large"))),
                }
            }
            Some(c)
                if c.is_ascii_digit()
                    || (c == '-' && self.peek2().is_some_and(|d| d.is_ascii_digit())) =>
            {
                self.pos += 1;
                while matches!(self.peek(), Some(c) if c.is_ascii_digit()) {
                    self.pos += 1;
                }
                let mut decimal = false;
                if self.peek() == Some('.') && self.peek2().is_some_and(|d| d.is_ascii_digit()) {
                    decimal = true;
                    self.pos += 1;
                    while matches!(self.peek(), Some(c) if c.is_ascii_digit()) {
                        self.pos += 1;
                    }
                }
                let text = &self.src[start..self.pos];
                if decimal {
                    Kind::Decimal(text.to_string())
                } else {
                    match text.parse::<i64>() {
                        Ok(n) => Kind::Int(n),
                        Err(_) => {
                            self.pos = start;
                            return Err(self.err(format!("the number {text} is too large")));
                        }
                    }
                }
            }
            Some(c) if c.is_alphabetic() || c == '_' => {
                while matches!(self.peek(), Some(c) if c.is_alphanumeric() || c == '_') {
                    self.bump();
                }
                let name = &self.src[start..self.pos];
                let after_name = self.pos;
                self.ws();
                if self.peek() == Some('(') {
                    return self.call(start, name, depth);
                }
                self.pos = after_name;
                Kind::Word(name.to_string())
            }
            Some(c) => return Err(self.err(format!("unexpected character {c:?}"))),
        };
        Ok(Expr {
            kind,
            span: (start, self.pos),
        })
    }

    /// A string constant. `\"` and `\\` are the documented escapes; any other backslash is kept
    /// as written, so Microsoft's GroupDN expressions (`"\,"`, `"\2C"`) mean what they show.
    fn string(&mut self) -> Result<String, ParseError> {
        let start = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            match self.bump() {
                None => {
                    self.pos = start;
                    return Err(self.err("a string opened with \" is never closed"));
                }
                Some('"') => return Ok(out),
                Some('\\') => match self.peek() {
                    Some('"') => {
                        self.pos += 1;
                        out.push('"');
                    }
                    Some('\\') => {
                        self.pos += 1;
                        out.push('\\');
                    }
                    _ => out.push('\\'),
                },
                Some(c) => out.push(c),
            }
        }
    }

    fn call(&mut self, start: usize, name: &str, depth: usize) -> Result<Expr, ParseError> {
        let name_at = self.src[..start].chars().count() + 1;
        let Some(spec) = func::lookup(name) else {
            return Err(ParseError {
                at: name_at,
                message: format!("unknown function {name}"),
            });
        };
        if depth >= MAX_DEPTH {
            return Err(self.err(format!("functions are nested more than {MAX_DEPTH} deep")));
        }
        self.pos += 1; // (
        let mut args: Vec<Option<Expr>> = Vec::new();
        self.ws();
        if self.peek() == Some(')') {
            self.pos += 1;
        } else {
            loop {
                self.ws();
                if matches!(self.peek(), Some(',' | ')')) {
                    args.push(None);
                } else {
                    args.push(Some(self.expr(depth + 1)?));
                }
                self.ws();
                match self.bump() {
                    Some(',') => continue,
                    Some(')') => break,
                    None => {
                        return Err(self.err(format!("{} is missing its closing )", spec.name)));
                    }
                    Some(c) => {
                        self.pos -= c.len_utf8();
                        return Err(self.err(format!(
                            "expected , or ) in the arguments of {}, found {c:?}",
                            spec.name
                        )));
                    }
                }
            }
        }
        // Trailing empty slots beyond the documented parameters are tolerated as "not given"
        // (`Replace(x, , "re", , "", , )` has seven slots, the last empty).
        while args.len() > spec.max && args.last().is_some_and(|a| a.is_none()) {
            args.pop();
        }
        if args.len() < spec.min || args.len() > spec.max {
            let want = if spec.min == spec.max {
                format!("{}", spec.min)
            } else if spec.max == usize::MAX {
                format!("at least {}", spec.min)
            } else {
                format!("{} to {}", spec.min, spec.max)
            };
            return Err(ParseError {
                at: name_at,
                message: format!("{} takes {want} argument(s), not {}", spec.name, args.len()),
            });
        }
        if spec.name == "Switch" && !args.len().is_multiple_of(2) {
            return Err(ParseError {
                at: name_at,
                message: "Switch takes a source, a default and key/value pairs: an even number of arguments".into(),
            });
        }
        Ok(Expr {
            kind: Kind::Call {
                name: spec.name,
                args,
            },
            span: (start, self.pos),
        })
    }
}
