"""What a task text points at: paths, identifiers, stack-trace frames."""

from __future__ import annotations

from swcollab.repomap import Focus, focus_from_text


def test_python_traceback_gives_files_and_functions() -> None:
    text = (
        "Traceback (most recent call last):\n"
        '  File "/home/me/proj/src/app/views.py", line 42, in render_page\n'
        "    body = build_body(ctx)\n"
        '  File "src/app/templates.py", line 7, in build_body\n'
        "KeyError: 'title'\n"
    )
    focus = focus_from_text(text)
    assert "/home/me/proj/src/app/views.py" in focus.files
    assert "src/app/templates.py" in focus.files
    assert {"render_page", "build_body"} <= set(focus.identifiers)


def test_javascript_go_rust_and_java_frames() -> None:
    text = (
        "TypeError: x is undefined\n"
        "    at parseConfig (/srv/app/lib/config.js:10:5)\n"
        "goroutine 1 [running]:\n"
        "main.(*Server).handleRequest(0xc000010000)\n"
        "\t/go/src/app/server.go:88 +0x1d\n"
        "thread 'main' panicked at src/stack.rs:12:9:\n"
        "   3: mycrate::stack::Stack::pop_item\n"
        "\tat com.example.bank.Account.deposit(Account.java:15)\n"
    )
    focus = focus_from_text(text)
    assert "/srv/app/lib/config.js" in focus.files
    assert "/go/src/app/server.go" in focus.files
    assert "src/stack.rs" in focus.files
    assert "com/example/bank/Account.java" in focus.files
    assert {"parseConfig", "Server", "handleRequest", "pop_item", "Account", "deposit"} <= set(
        focus.identifiers
    )


def test_prose_mentions_of_paths_and_identifiers() -> None:
    text = (
        "The `ShoppingCart.total_price` method in shop/cart.py ignores codes; "
        "apply_discount_code() should be called. See also HttpClient and getUserName."
    )
    focus = focus_from_text(text, extra_files=["shop/pricing.py"])
    assert focus.files == ("shop/cart.py", "shop/pricing.py")
    assert {
        "ShoppingCart",
        "total_price",
        "apply_discount_code",
        "HttpClient",
        "getUserName",
    } <= set(focus.identifiers)
    assert "the" not in focus.identifiers and "should" not in focus.identifiers


def test_empty_text_gives_an_empty_focus() -> None:
    assert focus_from_text("") == Focus()
