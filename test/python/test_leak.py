"""No leak: 10,000 classify calls (paths, buffers, arrays, a bad input)
keep the resident set flat."""
import numpy as np

import imgclass
from conftest import pixels


def rss_bytes():
    with open("/proc/self/statm") as f:
        import os
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_ten_thousand_classify_calls_keep_rss_flat(models, images):
    import os
    with open(images["c.jpg"], "rb") as f:
        jpeg = f.read()
    arr = pixels(24, 20, 5)
    inputs = [jpeg, arr, images["d.bmp"], b"corrupt"]
    with imgclass.Model(os.path.join(models, "tiny.pt"), input_size=8,
                        labels=os.path.join(models, "labels_synset.txt"),
                        preprocess_threads=1) as m:
        for _ in range(300):  # allocator pools and caches reach their size
            m.classify(inputs, topk=3)
        before = rss_bytes()
        for _ in range(10000):
            r = m.classify(inputs, topk=3)
        after = rss_bytes()
    assert [x.ok for x in r] == [True, True, True, False]
    # Leaking only the per-call results (4 slots, 12 classes, 3 score rows,
    # one message: about 300 bytes) would add about 3 MB; images or Python
    # objects far more.
    growth = after - before
    assert growth < 1.5 * 2**20, f"RSS grew by {growth / 2**20:.2f} MiB over 10,000 calls"
