"""The GraphQL API (Strawberry) over the memos_graph services; built in the GraphQL issue."""
