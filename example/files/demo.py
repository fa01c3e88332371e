"""Demo users and sample files, created once (running it again changes nothing)."""

from __future__ import annotations

import io
from pathlib import Path

from django.contrib.auth.models import Group, User
from django.core.files.base import ContentFile
from PIL import Image, ImageDraw

from .models import Avatar, Document, PrivateFile, Report, SubscriberFile, Video

DEMO_USER = ("demo", "demo-password")
STAFF_USER = ("staff", "staff-password")
SAMPLES = Path(__file__).with_name("samples")
ATTACHMENT_NAME = "Rechnung März 2026 – naïve.pdf"


def users() -> tuple[User, User]:
    """Return the demo user (a subscriber) and the staff user, creating them if missing."""
    demo = User.objects.filter(username=DEMO_USER[0]).first()
    if demo is None:
        demo = User.objects.create_user(DEMO_USER[0], password=DEMO_USER[1])
    group, _ = Group.objects.get_or_create(name="subscribers")
    demo.groups.add(group)
    staff = User.objects.filter(username=STAFF_USER[0]).first()
    if staff is None:
        staff = User.objects.create_superuser(STAFF_USER[0], "staff@example.com", STAFF_USER[1])
    return demo, staff


def avatar_png(color: str, letter: str) -> bytes:
    """Return a 128x128 PNG: a colored disc with a letter."""
    image = Image.new("RGB", (128, 128), "white")
    draw = ImageDraw.Draw(image)
    draw.ellipse((4, 4, 124, 124), fill=color)
    draw.text((64, 64), letter, fill="white", anchor="mm", font_size=64)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def pdf(text: str) -> bytes:
    """Return a one-page PDF showing ``text`` (ASCII)."""
    stream = f"BT /F1 24 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = io.BytesIO(), []
    out.write(b"%PDF-1.4\n")
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    )
    return out.getvalue()


def sample_video() -> bytes:
    """Return a 60-second WebM (VP9 test pattern, Opus rising tone; 1.3 MB) that seeks by range.

    Made once with Debian's ffmpeg::

        ffmpeg -f lavfi -i "testsrc2=size=320x180:rate=15:duration=60" \\
          -f lavfi -i "aevalsrc=0.3*sin(2*PI*(220*t+2*t*t)):s=24000:d=60" -map 0:v -map 1:a \\
          -c:v libvpx-vp9 -b:v 150k -minrate 100k -maxrate 200k -g 30 -deadline good \\
          -cpu-used 4 -c:a libopus -b:a 24k -shortest rising-tone.webm
    """
    return (SAMPLES / "rising-tone.webm").read_bytes()


def seed() -> None:
    """Create the demo users and one sample file of each kind, if there are none."""
    demo, staff = users()
    if not Avatar.objects.exists():
        Avatar(title="Ada", owner=demo).file.save(
            "ada.png", ContentFile(avatar_png("#d7263d", "A"))
        )
        Avatar(title="Grace", owner=staff).file.save(
            "grace.png", ContentFile(avatar_png("#1b998b", "G"))
        )
    if not Document.objects.exists():
        Document(title="Welcome", owner=demo).file.save("welcome.pdf", ContentFile(pdf("Welcome!")))
        Document(title=ATTACHMENT_NAME, owner=demo).file.save(
            ATTACHMENT_NAME, ContentFile(pdf("Rechnung Maerz 2026"))
        )
    if not Report.objects.exists():
        Report(title="Quarterly report", owner=staff).file.save(
            "quarterly.txt", ContentFile(b"Staff eyes only: revenue went up.\n")
        )
    if not SubscriberFile.objects.exists():
        SubscriberFile(title="Newsletter", owner=staff).file.save(
            "newsletter.txt", ContentFile(b"Thanks for subscribing!\n")
        )
    if not PrivateFile.objects.exists():
        PrivateFile(title="Demo's private notes", owner=demo).file.save(
            "notes.txt", ContentFile(b"Only the demo user may read this.\n")
        )
    if not Video.objects.exists():
        Video(title="A rising tone (60 s)", owner=staff).file.save(
            "rising-tone.webm", ContentFile(sample_video())
        )
