"""Files: reading photos and trimaps, writing images and export sets atomically, where things live."""
