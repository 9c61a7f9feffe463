"""The reserved tokens every keras_objectives vocabulary carries.

All objectives share one vocabulary and one embedding size, so every
vocabulary reserves, at its front, every special token any objective needs:

| ids        | tokens                                   | used by          |
|------------|------------------------------------------|------------------|
| 0..4       | `[PAD] [UNK] [CLS] [SEP] [MASK]`         | all / MLM        |
| 5..7       | `[NLU] [NLG] [S2S]`                      | UL2 mode tokens  |
| 8..10      | `[PRE] [MID] [SUF]`                      | fill-in-middle   |
| 11..110    | `<extra_id_99>` ... `<extra_id_0>`       | T5 sentinels     |

`[CLS]` doubles as BOS and `[SEP]` as EOS/document separator. Sentinels count
*down* from the last reserved id, as in T5 (`<extra_id_0>` is the largest
reserved id), so `sentinel_id(k) = last_sentinel_id - k`.
"""

from keras_objectives.api_export import keras_objectives_export

PAD = "[PAD]"
UNK = "[UNK]"
CLS = "[CLS]"
SEP = "[SEP]"
MASK = "[MASK]"
MODE_TOKENS = ("[NLU]", "[NLG]", "[S2S]")
FIM_TOKENS = ("[PRE]", "[MID]", "[SUF]")
NUM_SENTINELS = 100


def sentinel_token(k):
    return f"<extra_id_{k}>"


def reserved_tokens(num_sentinels=NUM_SENTINELS):
    """The ordered list of reserved tokens that starts every vocabulary."""
    sentinels = [sentinel_token(k) for k in reversed(range(num_sentinels))]
    return [PAD, UNK, CLS, SEP, MASK, *MODE_TOKENS, *FIM_TOKENS, *sentinels]


@keras_objectives_export("keras_objectives.data.SpecialTokens")
class SpecialTokens:
    """Ids of the special tokens of one vocabulary.

    Built from a vocabulary list with `SpecialTokens.from_vocabulary`, it
    works for keras_objectives vocabularies and for stock ones (for example a
    BERT `vocab.txt`, which has `[MASK]` but no sentinels).

    Args:
        vocabulary_size: int, the number of ids.
        pad_id, unk_id, bos_id, eos_id, mask_id: int or `None` when absent.
        mode_ids: dict from mode token (`"[NLU]"`, ...) to id.
        fim_ids: dict from FIM token (`"[PRE]"`, ...) to id.
        sentinel_ids: list of ids, `sentinel_ids[k]` is `<extra_id_k>`.
        special_ids: list of every id that must never be masked, selected as
            a prediction target, or inserted as a random replacement.

    Examples:

    >>> vocab = reserved_tokens() + ["the", "cat", "##s"]
    >>> st = SpecialTokens.from_vocabulary(vocab)
    >>> st.mask_id, st.pad_id, st.sentinel_ids[0], st.sentinel_ids[1]
    (4, 0, 110, 109)
    >>> st.vocabulary_size, len(st.special_ids)
    (114, 111)
    """

    def __init__(
        self,
        vocabulary_size,
        pad_id=None,
        unk_id=None,
        bos_id=None,
        eos_id=None,
        mask_id=None,
        mode_ids=None,
        fim_ids=None,
        sentinel_ids=None,
        special_ids=None,
    ):
        self.vocabulary_size = int(vocabulary_size)
        self.pad_id = pad_id
        self.unk_id = unk_id
        self.bos_id = bos_id
        self.eos_id = eos_id
        self.mask_id = mask_id
        self.mode_ids = dict(mode_ids or {})
        self.fim_ids = dict(fim_ids or {})
        self.sentinel_ids = list(sentinel_ids or [])
        if special_ids is None:
            special_ids = [
                i
                for i in (pad_id, unk_id, bos_id, eos_id, mask_id)
                if i is not None
            ]
            special_ids += list(self.mode_ids.values())
            special_ids += list(self.fim_ids.values())
            special_ids += self.sentinel_ids
        self.special_ids = sorted(set(int(i) for i in special_ids))

    @classmethod
    def from_vocabulary(cls, vocabulary):
        """Find the special tokens in a list of token strings.

        Any token of the form `[...]` or `<...>` counts as special, so stock
        vocabularies' `[unused*]` tokens are never inserted either.
        """
        vocabulary = list(vocabulary)
        index = {tok: i for i, tok in enumerate(vocabulary)}
        sentinels = []
        while sentinel_token(len(sentinels)) in index:
            sentinels.append(index[sentinel_token(len(sentinels))])
        special = [
            i
            for i, tok in enumerate(vocabulary)
            if (tok.startswith("[") and tok.endswith("]"))
            or (tok.startswith("<") and tok.endswith(">"))
        ]
        return cls(
            vocabulary_size=len(vocabulary),
            pad_id=index.get(PAD, index.get("<pad>")),
            unk_id=index.get(UNK, index.get("<unk>")),
            bos_id=index.get(CLS, index.get("<s>")),
            eos_id=index.get(SEP, index.get("</s>")),
            mask_id=index.get(MASK, index.get("<mask>")),
            mode_ids={t: index[t] for t in MODE_TOKENS if t in index},
            fim_ids={t: index[t] for t in FIM_TOKENS if t in index},
            sentinel_ids=sentinels,
            special_ids=special,
        )

    def sentinel_id(self, k):
        """The id of `<extra_id_k>`."""
        return self.sentinel_ids[k]

    def require(self, name, argument="special_tokens"):
        """Return the id of a required token or raise a clear error.

        Args:
            name: one of `"pad_id"`, `"mask_id"`, `"eos_id"`, `"bos_id"`,
                `"unk_id"`.
        """
        value = getattr(self, name)
        if value is None:
            token = {
                "pad_id": PAD,
                "unk_id": UNK,
                "bos_id": CLS,
                "eos_id": SEP,
                "mask_id": MASK,
            }[name]
            raise ValueError(
                f"Invalid value received for argument `{argument}`: the "
                f"vocabulary has no {token} token, which this objective "
                f"needs (`{name}`). Train the vocabulary with "
                "`keras_objectives.data.train_vocabulary`, which reserves "
                "every special token, or add it to your vocabulary."
            )
        return value

    def get_config(self):
        return {
            "vocabulary_size": self.vocabulary_size,
            "pad_id": self.pad_id,
            "unk_id": self.unk_id,
            "bos_id": self.bos_id,
            "eos_id": self.eos_id,
            "mask_id": self.mask_id,
            "mode_ids": self.mode_ids,
            "fim_ids": self.fim_ids,
            "sentinel_ids": self.sentinel_ids,
            "special_ids": self.special_ids,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __eq__(self, other):
        return (
            isinstance(other, SpecialTokens)
            and self.get_config() == other.get_config()
        )

    def __repr__(self):
        return (
            f"SpecialTokens(vocabulary_size={self.vocabulary_size}, "
            f"pad_id={self.pad_id}, mask_id={self.mask_id}, "
            f"eos_id={self.eos_id}, sentinels={len(self.sentinel_ids)})"
        )
