//! MCP endpoint.
