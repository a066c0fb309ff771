"""aitrace_langchain: LangChain and LangGraph runs as aitrace spans and records."""
