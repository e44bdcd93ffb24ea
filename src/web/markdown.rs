//! Customer and agent text turned into safe HTML: Markdown (`CommonMark` with tables and
//! strikethrough) with bare URLs made into links, then sanitized; or plain text with line
//! breaks kept. Pure string functions: no I/O, nothing from `service` or `store`.
//!
//! Two layers, so that one mistake is not enough: raw HTML in the source is turned
//! into text before rendering (so `<script>` shows as text, it never reaches the sanitizer as
//! markup), and ammonia then keeps only the tags and link schemes listed here, in case the
//! renderer itself ever emits something we did not expect. Images are never emitted: customer
//! content must not make a viewer's browser fetch a remote resource (tracking pixels, internal
//! URLs); an image becomes a link to its address instead.

use std::collections::{HashMap, HashSet};

use linkify::{LinkFinder, LinkKind};
use pulldown_cmark::{CowStr, Event, LinkType, Options, Parser, Tag, TagEnd, TextMergeStream};

/// Tags the rendered Markdown may contain after sanitizing.
const ALLOWED_TAGS: [&str; 25] = [
    "p",
    "br",
    "strong",
    "em",
    "del",
    "code",
    "pre",
    "blockquote",
    "ul",
    "ol",
    "li",
    "a",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "hr",
];

/// Link schemes kept; any other `href` (javascript:, data:, relative paths) is dropped.
const URL_SCHEMES: [&str; 3] = ["http", "https", "mailto"];

/// Every surviving link gets this `rel`: the target learns nothing of the page (no referrer,
/// no `window.opener`), and search engines give customer-posted links no weight.
const LINK_REL: &str = "noopener noreferrer nofollow";

/// Renders Markdown `source` to sanitized HTML, safe to insert into a page unescaped.
pub fn render_markdown(source: &str) -> String {
    render(source, false)
}

/// Renders a conversation message (a ticket's description, a comment) like
/// `render_markdown`, except that every line break the writer typed stays
/// a line break: people write messages, not Markdown paragraphs.
pub fn render_message(source: &str) -> String {
    render(source, true)
}

fn render(source: &str, keep_line_breaks: bool) -> String {
    let parser = Parser::new_ext(
        source,
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH,
    )
    .map(neutralize_raw_html)
    .map(move |event| match event {
        Event::SoftBreak if keep_line_breaks => Event::HardBreak,
        other => other,
    });
    // Merged so that a URL split over several text events (entities, escapes) is seen whole.
    let events = linkify_and_drop_images(TextMergeStream::new(parser));
    let mut html = String::with_capacity(source.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, events.into_iter());
    sanitizer().clean(&html).to_string()
}

/// Escapes `source` as HTML text and turns each line break into `<br>`.
pub fn render_plain(source: &str) -> String {
    let mut out = String::with_capacity(source.len() + source.len() / 8);
    let normalized = source.replace("\r\n", "\n").replace('\r', "\n");
    for (i, line) in normalized.split('\n').enumerate() {
        if i > 0 {
            out.push_str("<br>\n");
        }
        push_escaped(&mut out, line);
    }
    out
}

fn push_escaped(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

/// Raw HTML becomes literal text; an HTML block becomes a paragraph holding that text.
fn neutralize_raw_html(event: Event<'_>) -> Event<'_> {
    match event {
        Event::Html(html) | Event::InlineHtml(html) => Event::Text(html),
        Event::Start(Tag::HtmlBlock) => Event::Start(Tag::Paragraph),
        Event::End(TagEnd::HtmlBlock) => Event::End(TagEnd::Paragraph),
        other => other,
    }
}

/// Links bare URLs and e-mail addresses in ordinary text (not in code, not inside a link),
/// and turns each image into a link whose text is the image's alt text, or its address when
/// it has none.
fn linkify_and_drop_images<'a>(events: impl Iterator<Item = Event<'a>>) -> Vec<Event<'a>> {
    let mut finder = LinkFinder::new();
    finder.kinds(&[LinkKind::Url, LinkKind::Email]);
    let mut out = Vec::new();
    let mut link_depth = 0_usize;
    let mut in_code_block = false;
    // The address of each open image, and whether it has shown any text yet.
    let mut images: Vec<(CowStr<'a>, bool)> = Vec::new();

    for event in events {
        match event {
            Event::Start(Tag::Image {
                dest_url, title, ..
            }) => {
                link_depth += 1;
                images.push((dest_url.clone(), false));
                out.push(Event::Start(Tag::Link {
                    link_type: LinkType::Inline,
                    dest_url,
                    title,
                    id: CowStr::Borrowed(""),
                }));
            }
            Event::End(TagEnd::Image) => {
                link_depth = link_depth.saturating_sub(1);
                if let Some((dest_url, false)) = images.pop() {
                    out.push(Event::Text(dest_url));
                }
                out.push(Event::End(TagEnd::Link));
            }
            Event::Start(Tag::Link { .. }) => {
                link_depth += 1;
                out.push(event);
            }
            Event::End(TagEnd::Link) => {
                link_depth = link_depth.saturating_sub(1);
                out.push(event);
            }
            Event::Start(Tag::CodeBlock(_)) => {
                in_code_block = true;
                out.push(event);
            }
            Event::End(TagEnd::CodeBlock) => {
                in_code_block = false;
                out.push(event);
            }
            Event::Text(text) => {
                if let Some((_, shown)) = images.last_mut() {
                    *shown |= !text.trim().is_empty();
                }
                if link_depth > 0 || in_code_block {
                    out.push(Event::Text(text));
                } else {
                    push_linkified(&mut out, &finder, &text);
                }
            }
            Event::Code(_) => {
                if let Some((_, shown)) = images.last_mut() {
                    *shown = true;
                }
                out.push(event);
            }
            other => out.push(other),
        }
    }
    out
}

fn push_linkified(out: &mut Vec<Event<'_>>, finder: &LinkFinder, text: &str) {
    for span in finder.spans(text) {
        let piece = span.as_str();
        let href = match span.kind() {
            Some(LinkKind::Url) if has_web_scheme(piece) => Some(piece.to_owned()),
            Some(LinkKind::Email) => Some(format!("mailto:{piece}")),
            _ => None,
        };
        let piece = CowStr::from(piece.to_owned());
        match href {
            Some(href) => {
                out.push(Event::Start(Tag::Link {
                    link_type: LinkType::Autolink,
                    dest_url: CowStr::from(href),
                    title: CowStr::Borrowed(""),
                    id: CowStr::Borrowed(""),
                }));
                out.push(Event::Text(piece));
                out.push(Event::End(TagEnd::Link));
            }
            None => out.push(Event::Text(piece)),
        }
    }
}

/// linkify finds any `scheme://`; only web addresses become links, the rest stay text.
fn has_web_scheme(url: &str) -> bool {
    url.split_once("://").is_some_and(|(scheme, _)| {
        scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https")
    })
}

/// The allow-list sanitizer, built once: building it fills a dozen hash sets, which cost
/// as much as sanitizing a short message (a ticket page sanitizes every comment).
fn sanitizer() -> &'static ammonia::Builder<'static> {
    static SANITIZER: std::sync::LazyLock<ammonia::Builder<'static>> =
        std::sync::LazyLock::new(build_sanitizer);
    &SANITIZER
}

fn build_sanitizer() -> ammonia::Builder<'static> {
    let mut builder = ammonia::Builder::empty();
    builder
        .tags(ALLOWED_TAGS.into_iter().collect())
        .clean_content_tags(HashSet::from(["script", "style"]))
        .generic_attributes(HashSet::new())
        .tag_attributes(HashMap::from([
            ("a", HashSet::from(["href", "title"])),
            ("ol", HashSet::from(["start"])),
        ]))
        .url_schemes(URL_SCHEMES.into_iter().collect())
        .url_relative(ammonia::UrlRelative::Deny)
        .link_rel(Some(LINK_REL))
        .strip_comments(true);
    builder
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_keep_the_line_breaks_people_type_and_articles_do_not() {
        let text = "Bom dia,\nsegue o print.\n\nObrigada";
        assert_eq!(
            render_message(text),
            "<p>Bom dia,<br>\nsegue o print.</p>\n<p>Obrigada</p>\n"
        );
        assert_eq!(
            render_markdown(text),
            "<p>Bom dia,\nsegue o print.</p>\n<p>Obrigada</p>\n"
        );
    }

    #[test]
    fn script_tags_never_come_out_live() {
        for source in [
            "<script>alert(1)</script>",
            "hello <script>alert(1)</script> world",
            "<div>\n<script>alert(1)</script>\n</div>",
            "<SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
        ] {
            let html = render_markdown(source);
            assert!(
                !html.to_lowercase().contains("<script"),
                "{source:?} gave {html}"
            );
        }
    }

    #[test]
    fn raw_html_is_shown_as_text() {
        assert_eq!(
            render_markdown("a <b>bold</b> claim"),
            "<p>a &lt;b&gt;bold&lt;/b&gt; claim</p>\n"
        );
    }

    #[test]
    fn img_with_onerror_is_removed() {
        let html = render_markdown("<img src=x onerror=alert(1)>");
        assert!(!html.contains("<img"), "{html}");
        assert_eq!(html, "<p>&lt;img src=x onerror=alert(1)&gt;</p>\n");
    }

    #[test]
    fn sanitizer_alone_strips_what_the_renderer_should_never_emit() {
        let dirty = "<p class=\"x\" style=\"color:red\" onclick=\"alert(1)\">a</p>\
                     <img src=\"https://example.com/t.png\" onerror=\"alert(1)\">\
                     <a href=\"javascript:alert(1)\" target=\"_blank\">b</a>\
                     <a href=\"data:text/html,hi\">c</a>\
                     <script>alert(1)</script><style>p{}</style>\
                     <iframe src=\"https://example.com\"></iframe><code class=\"language-rs\">d</code>";
        assert_eq!(
            sanitizer().clean(dirty).to_string(),
            "<p>a</p><a rel=\"noopener noreferrer nofollow\">b</a>\
             <a rel=\"noopener noreferrer nofollow\">c</a><code>d</code>"
        );
    }

    #[test]
    fn markdown_images_become_links_and_load_nothing() {
        let html = render_markdown("![diagrama](https://example.com/a.png)");
        assert!(!html.contains("<img"), "{html}");
        assert!(
            html.contains(r#"<a href="https://example.com/a.png" rel="noopener noreferrer nofollow">diagrama</a>"#),
            "{html}"
        );
        let html = render_markdown("![](https://example.com/a.png)");
        assert!(html.contains(">https://example.com/a.png</a>"), "{html}");
    }

    #[test]
    fn javascript_markdown_link_loses_its_href() {
        let html = render_markdown("[x](javascript:alert(1))");
        assert!(!html.contains("href"), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(html.contains(">x</a>"), "{html}");
    }

    #[test]
    fn javascript_html_anchor_is_neutered() {
        for source in [
            r#"<a href="javascript:alert(1)">click</a>"#,
            "<div><a href=\"javascript:alert(1)\">click</a></div>",
        ] {
            let html = render_markdown(source);
            assert!(!html.contains("<a"), "{source:?} gave {html}");
            assert!(html.contains("&lt;a href="), "{source:?} gave {html}");
        }
    }

    #[test]
    fn data_and_other_schemes_are_refused() {
        for source in [
            "[x](data:text/html;base64,PHNjcmlwdD4=)",
            "![x](data:image/png;base64,iVBORw0KGgo=)",
            "[x](vbscript:msgbox)",
            "[x](/portal/tickets/1)",
            "<data:text/html,hi>",
        ] {
            let html = render_markdown(source);
            assert!(!html.contains("href"), "{source:?} gave {html}");
        }
    }

    #[test]
    fn allowed_links_get_rel_and_no_target() {
        let html = render_markdown("[site](https://example.com) and [mail](mailto:a@example.com)");
        assert_eq!(
            html,
            "<p><a href=\"https://example.com\" rel=\"noopener noreferrer nofollow\">site</a> and \
             <a href=\"mailto:a@example.com\" rel=\"noopener noreferrer nofollow\">mail</a></p>\n"
        );
        assert!(!html.contains("target"));
    }

    #[test]
    fn bare_https_url_is_linkified() {
        let html = render_markdown("Veja https://example.com/docs?a=1&b=2.");
        assert_eq!(
            html,
            "<p>Veja <a href=\"https://example.com/docs?a=1&amp;b=2\" \
             rel=\"noopener noreferrer nofollow\">https://example.com/docs?a=1&amp;b=2</a>.</p>\n"
        );
    }

    #[test]
    fn bare_email_is_linkified_as_mailto() {
        let html = render_markdown("Escreva para suporte@example.com");
        assert!(
            html.contains(r#"<a href="mailto:suporte@example.com" rel="noopener noreferrer nofollow">suporte@example.com</a>"#),
            "{html}"
        );
    }

    #[test]
    fn urls_in_code_and_links_are_not_linkified_again() {
        let html = render_markdown("`https://example.com`\n\n```\nhttps://example.com\n```");
        assert!(!html.contains("<a"), "{html}");
        let html = render_markdown("[https://example.com](https://example.com)");
        assert_eq!(html.matches("<a ").count(), 1, "{html}");
        let html = render_markdown("<https://example.com>");
        assert_eq!(html.matches("<a ").count(), 1, "{html}");
    }

    #[test]
    fn other_bare_schemes_stay_text() {
        let html = render_markdown("ftp://example.com/file and javascript://%0aalert(1)");
        assert!(!html.contains("<a"), "{html}");
    }

    #[test]
    fn bold_lists_and_common_markup_render() {
        assert_eq!(
            render_markdown("**negrito** e *itálico* e ~~riscado~~"),
            "<p><strong>negrito</strong> e <em>itálico</em> e <del>riscado</del></p>\n"
        );
        assert_eq!(
            render_markdown("- um\n- dois\n\n3. três\n4. quatro"),
            "<ul>\n<li>um</li>\n<li>dois</li>\n</ul>\n<ol start=\"3\">\n<li>três</li>\n\
             <li>quatro</li>\n</ol>\n"
        );
        let html = render_markdown("# Título\n\n> citação\n\n---");
        assert!(html.contains("<h1>Título</h1>"), "{html}");
        assert!(html.contains("<blockquote>"), "{html}");
        assert!(html.contains("<hr>"), "{html}");
    }

    #[test]
    fn tables_render_without_style_attributes() {
        let html = render_markdown("| a | b |\n|:--|--:|\n| 1 | 2 |");
        assert!(html.contains("<table>"), "{html}");
        assert!(html.contains("<th>a</th>"), "{html}");
        assert!(html.contains("<td>2</td>"), "{html}");
        assert!(!html.contains("style"), "{html}");
    }

    #[test]
    fn html_entities_and_special_characters_are_escaped() {
        assert_eq!(
            render_markdown("5 < 6 & 7 > 3 \"ok\""),
            "<p>5 &lt; 6 &amp; 7 &gt; 3 \"ok\"</p>\n"
        );
        assert_eq!(
            render_markdown("Tom &amp; Jerry &lt;b&gt;"),
            "<p>Tom &amp; Jerry &lt;b&gt;</p>\n"
        );
    }

    #[test]
    fn code_blocks_keep_angle_brackets_escaped_and_drop_classes() {
        let html = render_markdown("```html\n<b>x</b> & y\n```");
        assert_eq!(
            html,
            "<pre><code>&lt;b&gt;x&lt;/b&gt; &amp; y\n</code></pre>\n"
        );
        assert_eq!(
            render_markdown("use `Vec<u8>`"),
            "<p>use <code>Vec&lt;u8&gt;</code></p>\n"
        );
    }

    #[test]
    fn comments_and_event_handlers_do_not_survive() {
        let html = render_markdown(
            "x <!-- secret --> y\n\n<p onclick=\"alert(1)\" style=\"color:red\">z</p>",
        );
        assert!(!html.contains("<!--"), "{html}");
        assert!(!html.contains("<p onclick"), "{html}");
        assert!(!html.contains("<p style"), "{html}");
    }

    #[test]
    fn plain_text_is_escaped_with_line_breaks() {
        assert_eq!(
            render_plain("Olá <b>\"mundo\"</b> & 'tchau'\r\nlinha 2\nlinha 3"),
            "Olá &lt;b&gt;&quot;mundo&quot;&lt;/b&gt; &amp; &#39;tchau&#39;<br>\nlinha 2<br>\nlinha 3"
        );
        assert_eq!(render_plain(""), "");
        assert_eq!(render_plain("a\n\nb"), "a<br>\n<br>\nb");
    }
}
