/* napkit: one include for the whole library. */
#ifndef NAPKIT_H
#define NAPKIT_H

#define NK_VERSION "0.1.0"

#include "napkit/error.h"
#include "napkit/fileio.h"
#include "napkit/npy.h"
#include "napkit/audio.h"
#include "napkit/features.h"
#include "napkit/safetensors.h"
#include "napkit/arch.h"
#include "napkit/model.h"
#include "napkit/dataset.h"
#include "napkit/evaluate.h"
#include "napkit/train.h"
#include "napkit/cluster.h"
#include "napkit/plot.h"
#include "napkit/text.h"
#include "napkit/textgrid.h"
#include "napkit/synth.h"
#include "napkit/corpus.h"
#include "napkit/progress.h"
#include "napkit/ctc.h"
#include "napkit/editdist.h"
#include "napkit/nw.h"
#include "napkit/phoneset.h"
#include "napkit/espeak.h"
#include "napkit/lexicon.h"
#include "napkit/letter_phone.h"
#include "napkit/events.h"
#include "napkit/nap.h"
#include "napkit/attrib.h"
#include "napkit/sanity.h"
#include "napkit/align.h"

#endif
