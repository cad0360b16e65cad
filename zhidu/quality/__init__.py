"""Quality-information routing by class (篇五 §4–§10): plain rules that the flow and the tests call."""
