"""Stored phrases: English when written, the reader's language when shown."""

from django.utils import translation
from django.utils.translation import gettext_lazy, gettext_noop

from erp.core.templatetags.erp import money
from erp.core.text import Join, Phrase, phrase_render, sentences, text_say_again


def test_phrase_is_english_text_whatever_language_is_active():
    with translation.override("zh-hans"):
        found = Phrase(
            gettext_noop("Payment not captured: the store reports it as %(status)s."),
            status=gettext_lazy("Pending"),
        )

    assert found == "Payment not captured: the store reports it as pending."
    assert found.as_dict() == {
        "template": "Payment not captured: the store reports it as %(status)s.",
        "params": {"status": {"label": "Pending"}},
    }


def test_stored_phrase_is_said_again_in_chinese_with_nested_parts():
    stored = Phrase(
        gettext_noop("Stock short: %(parts)s."),
        parts=Join(
            [
                Phrase(
                    gettext_noop("%(sku)s needs %(need)s, %(have)s available"),
                    sku="TEE-BLK-M",
                    need=3,
                    have=1,
                )
            ],
            "; ",
        ),
    ).as_dict()

    with translation.override("zh-hans"):
        shown = phrase_render(stored)

    assert shown == "库存不足：TEE-BLK-M 需要 3，可售 1。"


def test_entries_without_a_template_show_their_english_message():
    assert phrase_render({"code": "x", "message": "Held for a reason."}) == (
        "Held for a reason."
    )


def test_money_uses_the_currency_minor_units_and_grouping():
    with translation.override("en"):
        assert money("1234.5", "USD") == "1,234.50 USD"
        assert money("1234.5", "JPY") == "1,235 JPY"
    assert money(None, "USD") == ""


def test_stored_english_text_is_said_again_in_chinese_with_its_values():
    from django.core.management import call_command

    from erp.core.text import text_say_again

    call_command("compile_catalogues", verbosity=0)
    translation.trans_real._translations.clear()  # a fresh catalogue, as a new process
    text_say_again.__globals__["_patterns"].cache_clear()
    stored = "Gave up after 5 attempts. Shopify call failed 4 times; last: timed out"

    with translation.override("zh-hans"):
        said = text_say_again(stored)
        unknown = text_say_again("Something no catalogue knows.")
    with translation.override("en"):
        english = text_say_again(stored)

    assert said == "尝试 5 次后放弃。Shopify 调用失败 4 次；最后一次：超时"
    assert unknown == "Something no catalogue knows."
    assert english == stored


def test_sentences_are_said_again_one_by_one_without_a_space_in_chinese():
    stored = sentences(
        Phrase(gettext_noop("No allowed service qualifies.")),
        Phrase(gettext_noop("Rule: %(rule)s."), rule="US only"),
    )

    assert stored == "No allowed service qualifies. Rule: US only."
    with translation.override("zh-hans"):
        # the Phrase itself, or its msgids and values kept in a JSON column
        assert text_say_again(stored) == "没有符合条件的可用服务。规则：US only。"
        assert (
            phrase_render(stored.as_dict()) == "没有符合条件的可用服务。规则：US only。"
        )
