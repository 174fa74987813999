"""Draw UPnP Guard's brand images (custom_components/upnp_guard/brand/).

    python -m tests.brand          # inside the environment: scripts/test's sandbox

A shield (the guard) holding three linked nodes (a UPnP network): our own design, drawn
with Pillow at four times the size and scaled down for smooth edges. Home Assistant
(2026.3 and later) shows brand/icon.png and brand/logo.png of a custom integration;
the sizes follow its brands rules: icon 256x256 (@2x 512x512), logo 128 px high
(@2x 256 px), transparent background, trimmed.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

BRAND_DIR = Path(__file__).resolve().parents[1] / "custom_components" / "upnp_guard" / "brand"
SHIELD = (25, 118, 210, 255)  # blue
SHIELD_EDGE = (13, 71, 161, 255)
NODE = (255, 255, 255, 255)
TEXT = (33, 33, 33, 255)
FONT = Path("/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf")
SCALE = 4


def _shield(size: int) -> Image.Image:
    """The icon, `size` pixels square."""
    big = size * SCALE
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    s = big / 100  # drawing units: 0..100

    def pt(x: float, y: float) -> tuple[float, float]:
        return (x * s, y * s)

    # The shield spans the full height: the icon is trimmed, as the brands rules ask.
    outline = [pt(50, 0), pt(92, 14), pt(90, 52), pt(78, 77), pt(50, 100)]
    outline += [pt(22, 77), pt(10, 52), pt(8, 14)]
    draw.polygon(outline, fill=SHIELD_EDGE)
    inner = [pt(50, 8), pt(86, 20), pt(84, 51), pt(73, 72), pt(50, 91)]
    inner += [pt(27, 72), pt(16, 51), pt(14, 20)]
    draw.polygon(inner, fill=SHIELD)
    nodes = [pt(50, 28), pt(31, 62), pt(69, 62)]
    for a, b in ((0, 1), (1, 2), (2, 0)):
        draw.line([nodes[a], nodes[b]], fill=NODE, width=round(5 * s))
    radius = 9 * s
    for x, y in nodes:
        draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=NODE)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def icon(size: int) -> Image.Image:
    return _shield(size)


def logo(height: int) -> Image.Image:
    """The icon and the name side by side, `height` pixels high, trimmed."""
    mark = _shield(height)
    font = ImageFont.truetype(str(FONT), round(height * 0.5))
    left, top, right, bottom = font.getbbox("UPnP Guard")
    gap = height // 6
    image = Image.new("RGBA", (height + gap + right - left, height), (0, 0, 0, 0))
    image.paste(mark, (0, 0), mark)
    draw = ImageDraw.Draw(image)
    draw.text((height + gap - left, (height - (bottom - top)) // 2 - top), "UPnP Guard", TEXT, font)
    box = image.getbbox()
    trimmed = image.crop(box) if box else image
    # Trimming took the shield's margin: back to exactly `height` (the brands minimum).
    width = round(trimmed.width * height / trimmed.height)
    return trimmed.resize((width, height), Image.Resampling.LANCZOS)


def main() -> None:
    BRAND_DIR.mkdir(parents=True, exist_ok=True)
    icon(256).save(BRAND_DIR / "icon.png", optimize=True)
    icon(512).save(BRAND_DIR / "icon@2x.png", optimize=True)
    logo(128).save(BRAND_DIR / "logo.png", optimize=True)
    logo(256).save(BRAND_DIR / "logo@2x.png", optimize=True)


if __name__ == "__main__":
    main()
