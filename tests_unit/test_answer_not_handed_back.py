"""An answer is the model's only when it is more than its prompt handed back (conformance tests' rule)."""

from stackgate.evidence.ollama import handed_back, recalls

PROMPT = "Hello, my name is Zorbalin. Nice to meet you! How can I help you today? What is my name?"


def test_the_prompt_echoed_or_a_run_of_it_is_handed_back():
    assert handed_back("What is my name?", PROMPT)
    assert handed_back("my name is Zorbalin.", PROMPT)
    assert handed_back("", PROMPT)


def test_an_answer_in_words_of_its_own_recalls_the_name():
    assert recalls("Your name is Zorbalin.", "Zorbalin", PROMPT)
    assert not recalls("my name is Zorbalin", "Zorbalin", PROMPT)          # a run of the prompt
    assert not recalls("Nice to meet you too!", "Zorbalin", PROMPT)        # another conversation's answer
