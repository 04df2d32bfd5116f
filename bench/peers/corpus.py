#!/usr/bin/env python3
"""Writes a web-log-like corpus, one JSON document per line, the same bytes
for the same count (seeded): documents like http_logs' (timestamp, client
address, request line, status, size, agent).

    corpus.py COUNT OUT.json     (prints "COUNT BYTES")
"""
import json
import random
import sys

PATHS = ["/", "/index.html", "/images/logo.gif", "/images/hm_bg.jpg", "/english/index.html",
         "/english/teams/teambio.htm", "/french/index.html", "/english/history/history_of/images/cup/cup.gif",
         "/images/space.gif", "/english/images/nav_tickets_off.gif", "/cgi-bin/trivia/Trivia.pl",
         "/english/competition/maincontent.htm", "/images/arw_lk.gif", "/english/venues/cities/images/denver/venue_denver.jpg"]
METHODS = ["GET"] * 17 + ["POST", "HEAD"]
STATUSES = [200] * 80 + [304] * 10 + [404] * 6 + [206, 500, 503, 302]
AGENTS = ["Mozilla/4.0 (compatible; MSIE 5.0; Windows 98)", "Mozilla/4.05 [en] (X11; I; Linux 2.0.34 i686)",
          "Mozilla/4.5 (Macintosh; I; PPC)", "Lynx/2.8.1rel.2 libwww-FM/2.14", "Googlebot/2.1"]


def main():
    count, out = int(sys.argv[1]), sys.argv[2]
    rnd = random.Random(1998)
    ts = 893964617
    size = 0
    with open(out, "w") as f:
        for _ in range(count):
            ts += rnd.randint(0, 2)
            status = rnd.choice(STATUSES)
            doc = {
                "@timestamp": ts,
                "clientip": f"{rnd.randint(1, 223)}.{rnd.randint(0, 255)}.{rnd.randint(0, 255)}.{rnd.randint(1, 254)}",
                "request": f"{rnd.choice(METHODS)} {rnd.choice(PATHS)} HTTP/1.{rnd.randint(0, 1)}",
                "status": status,
                "size": 0 if status in (304, 404) else rnd.randint(100, 60000),
                "agent": rnd.choice(AGENTS),
            }
            line = json.dumps(doc, separators=(",", ":")) + "\n"
            size += len(line.encode())
            f.write(line)
    print(count, size)


if __name__ == "__main__":
    main()
