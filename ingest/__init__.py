"""Pure parsers: file bytes -> ParsedDocument (text, pages, blocks, tables, character offsets)."""
